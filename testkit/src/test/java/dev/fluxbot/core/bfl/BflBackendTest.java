package dev.fluxbot.core.bfl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.UserError.Code;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.model.ModelSpec;
import dev.fluxbot.core.model.ReferenceImage;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.MutableClock;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The real BFL client over real sockets against the fake BFL API; time is a fake clock. */
class BflBackendTest {
  private final MutableClock clock = new MutableClock();
  private final List<Duration> sleeps = new CopyOnWriteArrayList<>();
  private final Sleeper sleeper =
      d -> {
        sleeps.add(d);
        clock.advance(d);
      };

  @RegisterExtension
  final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.clock(clock));

  private final FakeBflApi fake = bflFake.get();
  private final ModelCatalog catalog = ModelCatalog.builtIn();
  private final CommandParser parser =
      new CommandParser(catalog, CommandParser.Settings.defaults());
  private final List<Progress> progress = new CopyOnWriteArrayList<>();

  private BflConfig config() {
    return BflConfig.defaults(Secret.of(fake.key())).withBaseUrl(URI.create(fake.baseUrl()));
  }

  private BflBackend backend(BflConfig config) {
    return new BflBackend(config, new OkHttpClient(), clock, sleeper, new Random(1));
  }

  private GenerationJob job(String text, List<ReferenceImage> refs) {
    GenerationRequest r = parser.parse(text, Map.of(), refs.size());
    if (r.seed() == null) {
      r = r.withSeed(42);
    }
    if (r.size() == null) {
      r = r.withSize(new dev.fluxbot.core.model.ImageSize(1024, 1024));
    }
    return new GenerationJob("job-1", r, refs);
  }

  private GenerationResult run(String text) {
    return backend(config()).generate(job(text, List.of()), progress::add);
  }

  private UserError fails(String text) {
    return catchThrowableOfType(UserError.class, () -> run(text));
  }

  @Test
  void submitPollAndDownloadDeliversTheImageWithItsCost() {
    fake.enqueue(Scenario.ready().withCost(1.4));
    GenerationResult r = run("a red fox in snow --ar 16:9 --seed 7 --format png --safety 1");

    assertThat(r.type()).isEqualTo(ImageType.PNG);
    assertThat(r.width()).isEqualTo(1344);
    assertThat(r.height()).isEqualTo(768);
    assertThat(r.seed()).isEqualTo(7);
    assertThat(r.cost()).isEqualByComparingTo("1.4");
    assertThat(r.backend()).isEqualTo("bfl");
    assertThat(r.taskId()).isNotBlank();

    FakeBflApi.RecordedSubmit submit = fake.takeSubmit();
    assertThat("/v1/" + submit.endpoint()).isEqualTo("/v1/flux-2-klein-4b");
    assertThat(submit.header("x-key")).contains(fake.key());
    JsonNode body = submit.body();
    assertThat(body.get("prompt").asText()).isEqualTo("a red fox in snow");
    assertThat(body.get("seed").asLong()).isEqualTo(7);
    assertThat(body.get("width").asInt()).isEqualTo(1344);
    assertThat(body.get("height").asInt()).isEqualTo(768);
    assertThat(body.get("safety_tolerance").asInt()).isEqualTo(1);
    assertThat(body.get("output_format").asText()).isEqualTo("png");
    assertThat(fake.validationErrors()).isEmpty();

    // Polls went to the regional host the submit named, never the API host; the key stayed off the
    // delivery host.
    assertThat(fake.polls())
        .isNotEmpty()
        .allSatisfy(p -> assertThat(p.host()).isEqualTo(FakeBflApi.Host.POLLING));
    assertThat(fake.requests(FakeBflApi.Host.API))
        .allSatisfy(p -> assertThat(p.method()).isEqualTo("POST"));
    assertThat(fake.deliveries()).hasSize(1);
    assertThat(fake.keySentToDelivery()).isFalse();
    assertThat(progress)
        .extracting(Progress::stage)
        .contains(
            Progress.Stage.SUBMITTED,
            Progress.Stage.QUEUED,
            Progress.Stage.GENERATING,
            Progress.Stage.DOWNLOADING);
  }

  @Test
  void everyFlux2EndpointAcceptsWhatTheClientSends() throws IOException {
    List<ReferenceImage> refs = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      byte[] png = png(64 + 16 * i, 64);
      refs.add(ReferenceImage.of("image" + (i + 1), ImageType.PNG, 64 + 16 * i, 64, png));
    }
    for (ModelSpec model : catalog.models()) {
      String extra = model.takesSteps() ? " --steps 28 --guidance 4.5" : "";
      List<ReferenceImage> mine = refs.subList(0, model.maxReferences());
      GenerationResult r =
          backend(config())
              .generate(
                  job(
                      "a fox --model " + model.id() + " --format webp --size 512x768" + extra,
                      mine),
                  progress::add);
      assertThat(r.type()).isEqualTo(ImageType.WEBP);
      assertThat(r.width()).isEqualTo(512);
      assertThat(r.height()).isEqualTo(768);
      FakeBflApi.RecordedSubmit submit = fake.takeSubmit();
      assertThat("/v1/" + submit.endpoint()).isEqualTo(model.endpoint());
      String last = model.maxReferences() == 4 ? "input_image_4" : "input_image_8";
      assertThat(submit.body().has(last)).as(model.id() + " " + last).isTrue();
      assertThat(submit.body().get("input_image").asText()).isEqualTo(mine.get(0).base64());
    }
    assertThat(fake.validationErrors()).isEmpty();
    JsonNode flex =
        fake.submits().stream()
            .filter(s -> s.endpoint().equals("flux-2-flex"))
            .findFirst()
            .orElseThrow()
            .body();
    assertThat(flex.get("steps").asInt()).isEqualTo(28);
    assertThat(flex.get("guidance").asDouble()).isEqualTo(4.5);
  }

  @Test
  void reasoningGeneratingAndUnknownStatusesAreProgress() {
    fake.enqueue(
        Scenario.statuses("Pending", "Reasoning", "Generating", "Thinking Harder", "Ready"));
    GenerationResult r = run("a fox");
    assertThat(r.width()).isEqualTo(1024);
    assertThat(progress)
        .extracting(Progress::stage)
        .containsSubsequence(
            Progress.Stage.QUEUED,
            Progress.Stage.REASONING,
            Progress.Stage.GENERATING,
            Progress.Stage.QUEUED,
            Progress.Stage.DOWNLOADING);
    assertThat(progress).extracting(Progress::detail).contains("Thinking Harder");
  }

  @Test
  void requestModeratedIsItsOwnOutcome() {
    fake.enqueue(Scenario.moderated("Request Moderated", "Derivative Works Filter"));
    UserError e = fails("a famous mouse");
    assertThat(e.code()).isEqualTo(Code.MODERATED);
    assertThat(e.code().kind()).isEqualTo(UserError.Kind.OUTCOME);
    assertThat(e.getMessage())
        .isEqualTo(
            "BFL's moderation blocked the request (the prompt or a reference image): "
                + "Derivative Works Filter. You were not charged. Rephrase the prompt or use other references.");
  }

  @Test
  void contentModeratedSaysTheImageWasBlocked() {
    fake.enqueue(Scenario.moderated("Content Moderated", "NSFW"));
    UserError e = fails("a fox");
    assertThat(e.code()).isEqualTo(Code.MODERATED);
    assertThat(e.getMessage()).startsWith("BFL's moderation blocked the generated image: NSFW.");
  }

  @Test
  void errorStatusCarriesBflsReason() {
    fake.enqueue(Scenario.error("GPU fell over"));
    UserError e = fails("a fox");
    assertThat(e.code()).isEqualTo(Code.BACKEND_FAILED);
    assertThat(e.getMessage()).contains("GPU fell over").contains("You were not charged");
    fake.enqueue(Scenario.legacyError("old style failure"));
    assertThat(fails("a fox").getMessage()).contains("old style failure");
  }

  @Test
  void taskNotFoundFailsAfterAFewPolls() {
    fake.enqueue(Scenario.taskNotFound());
    UserError e = fails("a fox");
    assertThat(e.code()).isEqualTo(Code.BACKEND_FAILED);
    assertThat(e.getMessage()).contains("Task not found");
    assertThat(fake.polls()).hasSize(3);
  }

  @Test
  void outOfCreditsTellsTheAdmin() {
    fake.enqueue(Scenario.submitError(402, "Insufficient credits"));
    UserError e = fails("a fox");
    assertThat(e.code()).isEqualTo(Code.BACKEND_CREDITS);
    assertThat(e.getMessage())
        .startsWith(
            "The BFL account is out of credits (402: Insufficient credits). An admin must add credits");
  }

  @ParameterizedTest
  @ValueSource(ints = {401, 403})
  void aRefusedKeyIsAnAuthErrorAndNeverShowsTheKey(int status) {
    fake.enqueue(Scenario.submitError(status, "Not authenticated"));
    UserError e = fails("a fox");
    assertThat(e.code()).isEqualTo(Code.BACKEND_AUTH);
    assertThat(e.getMessage()).contains("BFL_API_KEY").doesNotContain(fake.key());
  }

  @Test
  void aWrongKeyIsRefusedByTheFakeAndNotEchoed() {
    BflConfig wrong =
        BflConfig.defaults(Secret.of("sk-wrong-0123456789"))
            .withBaseUrl(URI.create(fake.baseUrl()));
    UserError e =
        catchThrowableOfType(
            UserError.class, () -> backend(wrong).generate(job("fox", List.of()), progress::add));
    assertThat(e.code()).isEqualTo(Code.BACKEND_AUTH);
    assertThat(e.getMessage()).doesNotContain("sk-wrong-0123456789");
  }

  @Test
  void badRequestAndValidationErrorsSurfaceBflsMessage() {
    fake.enqueue(Scenario.submitError(400, "Prompt is empty"));
    UserError bad = fails("a fox");
    assertThat(bad.code()).isEqualTo(Code.BACKEND_REJECTED);
    assertThat(bad.getMessage()).contains("(400): Prompt is empty");

    fake.enqueue(Scenario.validationError("width", "Input should be a multiple of 32"));
    UserError invalid = fails("a fox");
    assertThat(invalid.code()).isEqualTo(Code.BACKEND_REJECTED);
    assertThat(invalid.getMessage())
        .isEqualTo("BFL rejected the klein-4b request: width: Input should be a multiple of 32.");
  }

  @ParameterizedTest
  @ValueSource(ints = {500, 503})
  void aServerErrorOnSubmitIsNeverRetried(int status) {
    fake.enqueue(Scenario.submitError(status, "upstream trouble"));
    UserError e = fails("a fox");
    assertThat(e.code()).isEqualTo(Code.BACKEND_FAILED);
    assertThat(e.getMessage()).contains("answered " + status).contains("Not retried");
    assertThat(fake.submits()).hasSize(1);
  }

  @Test
  void rateLimitWaitsForRetryAfterThenSubmitsAgain() {
    fake.enqueue(Scenario.rateLimited(7), Scenario.ready());
    GenerationResult r = run("a fox");
    assertThat(r.width()).isEqualTo(1024);
    assertThat(fake.requests(FakeBflApi.Host.API)).hasSize(2);
    assertThat(sleeps.get(0)).isEqualTo(Duration.ofSeconds(7));
  }

  @Test
  void pollServerErrorsAreRetriedWithBackoff() {
    fake.enqueue(Scenario.ready().withPollFailures(503, 2));
    assertThat(run("a fox").width()).isEqualTo(1024);
    assertThat(fake.polls().size()).isGreaterThanOrEqualTo(5);
  }

  @Test
  void tooManyPollFailuresGiveUp() {
    fake.enqueue(Scenario.ready().withPollFailures(500, 10));
    UserError e = fails("a fox");
    assertThat(e.code()).isEqualTo(Code.BACKEND_FAILED);
    assertThat(e.getMessage())
        .startsWith("Lost contact with BFL while waiting for task")
        .contains("4 times in a row");
  }

  @Test
  void aTaskThatNeverFinishesTimesOutAtTheWaitLimit() {
    fake.enqueue(Scenario.neverFinishes());
    assertThat(config().waitLimit()).isEqualTo(Duration.ofSeconds(600));
    var start = clock.instant();
    UserError e = fails("a fox");
    assertThat(e.code()).isEqualTo(Code.TIMED_OUT);
    assertThat(e.getMessage()).startsWith("BFL did not finish within 600 s");
    assertThat(Duration.between(start, clock.instant())).isEqualTo(Duration.ofSeconds(600));
  }

  @Test
  void anExpiredResultLinkIsAClearError() {
    // The link lasts 10 minutes; something holds the job up for 11 between "Ready" and the
    // download.
    BflBackend patient = backend(config().withWaitLimit(Duration.ofMinutes(30)));
    UserError e =
        catchThrowableOfType(
            UserError.class,
            () ->
                patient.generate(
                    job("a fox", List.of()),
                    p -> {
                      if (p.stage() == Progress.Stage.DOWNLOADING) {
                        clock.advance(Duration.ofMinutes(11));
                      }
                    }));
    assertThat(e.code()).isEqualTo(Code.BACKEND_FAILED);
    assertThat(e.getMessage()).contains("could not be downloaded (403");
  }

  @Test
  void aPostIsRetriedOnlyWhenTheConnectionNeverOpened() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    BflConfig unreachable = config().withBaseUrl(URI.create("http://127.0.0.1:" + closedPort));
    UserError e =
        catchThrowableOfType(
            UserError.class,
            () -> backend(unreachable).generate(job("fox", List.of()), progress::add));
    assertThat(e.code()).isEqualTo(Code.BACKEND_UNAVAILABLE);
    assertThat(e.getMessage())
        .startsWith("Could not reach the BFL API at 127.0.0.1")
        .contains("4 tries");
    assertThat(sleeps).hasSize(3);
  }

  @Test
  void aReadTimeoutOnSubmitIsNotRetried() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread acceptor =
          Thread.ofVirtual()
              .start(
                  () -> {
                    List<Socket> open = new ArrayList<>();
                    try {
                      while (true) {
                        Socket s = silent.accept();
                        connections.incrementAndGet();
                        open.add(s);
                        InputStream in = s.getInputStream();
                        Thread.ofVirtual()
                            .start(
                                () -> {
                                  try {
                                    in.transferTo(OutputStreamSink.INSTANCE);
                                  } catch (IOException ignored) {
                                    // closed by the test
                                  }
                                });
                      }
                    } catch (IOException closed) {
                      open.forEach(BflBackendTest::closeQuietly);
                    }
                  });
      OkHttpClient impatient =
          new OkHttpClient.Builder().readTimeout(Duration.ofMillis(300)).build();
      BflBackend b =
          new BflBackend(
              config().withBaseUrl(URI.create("http://127.0.0.1:" + silent.getLocalPort())),
              impatient,
              clock,
              sleeper,
              new Random(1));
      UserError e =
          catchThrowableOfType(
              UserError.class, () -> b.generate(job("fox", List.of()), progress::add));
      assertThat(e.code()).isEqualTo(Code.BACKEND_FAILED);
      assertThat(e.getMessage())
          .contains("did not answer the klein-4b submit in time. Not retried");
      assertThat(connections.get()).isEqualTo(1);
      silent.close();
      acceptor.join(2000);
    }
  }

  @Test
  void neverMoreThanTheSlotLimitInFlight() throws Exception {
    int jobs = 30;
    for (int i = 0; i < jobs; i++) {
      fake.enqueue(Scenario.statuses("Pending", "Pending", "Pending", "Generating", "Ready"));
    }
    BflBackend b = backend(config().withMaxActiveTasks(24));
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<GenerationResult>> results = new ArrayList<>();
      for (int i = 0; i < jobs; i++) {
        results.add(pool.submit(() -> b.generate(job("fox", List.of()), ignored -> {})));
      }
      for (Future<GenerationResult> f : results) {
        assertThat(f.get().width()).isEqualTo(1024);
      }
    }
    assertThat(fake.maxConcurrentActiveTasks()).isBetween(1, 24);
    assertThat(fake.submits()).hasSize(jobs);
  }

  @Test
  void aTaskSubmittedBeforeARestartIsResumedFromItsPollingUrlWithoutASecondSubmit()
      throws Exception {
    fake.enqueue(Scenario.statuses("Pending", "Generating", "Ready").withSeed(9));
    java.util.concurrent.atomic.AtomicReference<dev.fluxbot.core.backend.BackendTask> started =
        new java.util.concurrent.atomic.AtomicReference<>();
    // The first process submits, stores the task, and dies before the first poll (the listener
    // throws).
    catchThrowableOfType(
        IllegalStateException.class,
        () ->
            backend(config())
                .generate(
                    job("a fox --seed 9", List.of()),
                    new dev.fluxbot.core.ProgressListener() {
                      @Override
                      public void onProgress(Progress p) {}

                      @Override
                      public void onTask(dev.fluxbot.core.backend.BackendTask task) {
                        started.set(task);
                        throw new IllegalStateException("process killed");
                      }
                    }));
    dev.fluxbot.core.backend.BackendTask task = started.get();
    assertThat(task.backend()).isEqualTo("bfl");
    assertThat(task.resumeUrl()).startsWith(fake.pollingBaseUrl());

    BflBackend afterRestart = backend(config());
    assertThat(afterRestart.canResume()).isTrue();
    GenerationResult r = afterRestart.resume(job("a fox --seed 9", List.of()), task, progress::add);
    assertThat(r.width()).isEqualTo(1024);
    assertThat(r.seed()).isEqualTo(9);
    assertThat(r.taskId()).isEqualTo(task.taskId());
    assertThat(task.cost())
        .as("BFL's submit answer states the cost; it is kept with the task")
        .isPositive();
    assertThat(r.cost())
        .as("the resumed result carries the cost stated at submit")
        .isEqualTo(task.cost());
    assertThat(fake.submits()).hasSize(1);
    assertThat(fake.polls()).isNotEmpty();
  }

  @Test
  void resumeWithoutAPollingUrlSaysWhy() {
    UserError e =
        catchThrowableOfType(
            UserError.class,
            () ->
                backend(config())
                    .resume(
                        job("fox", List.of()),
                        new dev.fluxbot.core.backend.BackendTask("bfl", "t-1", null),
                        progress::add));
    assertThat(e.code()).isEqualTo(Code.BACKEND_UNAVAILABLE);
    assertThat(e.getMessage())
        .isEqualTo("BFL task t-1 cannot be resumed (no polling URL was stored).");
  }

  @Test
  void backoffFollowsBflsPolicy() {
    BflBackend b = backend(config());
    for (int attempt = 1; attempt <= 10; attempt++) {
      double cap = Math.min(30, 0.5 * Math.pow(2, attempt - 1));
      assertThat(b.backoff(attempt).toMillis()).isBetween(0L, (long) (cap * 1000));
    }
  }

  @Test
  void regionsAndDefaults() {
    assertThat(BflConfig.Region.parse("eu").baseUrl()).hasToString("https://api.eu.bfl.ai");
    assertThat(BflConfig.Region.parse("US").baseUrl()).hasToString("https://api.us.bfl.ai");
    assertThat(BflConfig.Region.parse("global").baseUrl()).hasToString("https://api.bfl.ai");
    assertThat(
            catchThrowableOfType(
                    IllegalArgumentException.class, () -> BflConfig.Region.parse("mars"))
                .getMessage())
        .isEqualTo("bfl.region: must be global, eu or us; got \"mars\"");
    BflConfig d = BflConfig.defaults(Secret.of("k"));
    assertThat(d.maxActiveTasks()).isEqualTo(24);
    assertThat(d.toString()).doesNotContain("k,").contains("key=set");
  }

  @Test
  void withoutAKeyTheBackendDeclinesSayingHowToGetOne() {
    BflBackend none = backend(BflConfig.defaults(null).withBaseUrl(URI.create(fake.baseUrl())));
    assertThat(none.refusal(job("fox", List.of()).request()))
        .hasValueSatisfying(
            why -> assertThat(why).contains("BFL_API_KEY").contains("dashboard.bfl.ai"));
  }

  private static byte[] png(int w, int h) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", out);
    return out.toByteArray();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  private static final class OutputStreamSink extends java.io.OutputStream {
    static final OutputStreamSink INSTANCE = new OutputStreamSink();

    @Override
    public void write(int b) {}
  }
}
