package dev.fluxbot.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.Progress;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageSize;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.model.ReferenceImage;
import dev.fluxbot.testkit.FakeKleinWorker;
import dev.fluxbot.testkit.KleinScenario;
import dev.fluxbot.testkit.MutableClock;
import dev.fluxbot.testkit.TestImages;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link LocalKleinBackend} against {@link FakeKleinWorker}s over real sockets. */
class LocalKleinBackendTest {
  static final ModelCatalog CATALOG = ModelCatalog.builtIn();

  private final MutableClock clock = new MutableClock();
  private final Sleeper sleeper = clock::advance;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final List<AutoCloseable> open = new ArrayList<>();
  private final List<Progress> progress = Collections.synchronizedList(new ArrayList<>());

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open.reversed()) {
      c.close();
    }
    executor.shutdownNow();
  }

  private FakeKleinWorker worker(FakeKleinWorker.Builder builder) {
    FakeKleinWorker w = builder.start();
    open.add(w);
    return w;
  }

  private LocalKleinBackend backend(boolean fallback, FakeKleinWorker... workers) {
    List<URI> urls = java.util.Arrays.stream(workers).map(FakeKleinWorker::url).toList();
    return backend(LocalRuntimeConfig.of(urls, null, fallback));
  }

  private LocalKleinBackend backend(LocalRuntimeConfig config) {
    LocalKleinBackend b =
        new LocalKleinBackend(
            config,
            new BigDecimal("1.5"),
            LocalKleinBackend.defaultHttp(),
            clock,
            sleeper,
            executor);
    open.add(b);
    b.refreshHealth();
    return b;
  }

  static GenerationJob job(
      String model, int width, int height, long seed, List<ReferenceImage> refs) {
    GenerationRequest request =
        new GenerationRequest(
            CATALOG.require(model),
            "a red fox in snow",
            new ImageSize(width, height),
            false,
            seed,
            false,
            null,
            null,
            2,
            ImageType.PNG,
            refs.size(),
            false);
    return new GenerationJob("01JOBLOCAL0000000000000001", request, refs);
  }

  static GenerationJob job() {
    return job("klein-4b", 768, 512, 42, List.of());
  }

  private GenerationResult generate(LocalKleinBackend backend, GenerationJob job) {
    return backend.generate(job, progress::add);
  }

  @Test
  void progressIsStreamedInOrderAndThePngHasTheRequestedSize() throws Exception {
    FakeKleinWorker w = worker(FakeKleinWorker.builder().queue(2, 0));
    LocalKleinBackend backend = backend(false, w);

    GenerationResult result = generate(backend, job());

    assertThat(progress)
        .extracting(Progress::stage, Progress::detail)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                Progress.Stage.QUEUED, "position 2 at the local worker"),
            org.assertj.core.groups.Tuple.tuple(Progress.Stage.GENERATING, "started"),
            org.assertj.core.groups.Tuple.tuple(Progress.Stage.GENERATING, "step 1/4"),
            org.assertj.core.groups.Tuple.tuple(Progress.Stage.GENERATING, "step 2/4"),
            org.assertj.core.groups.Tuple.tuple(Progress.Stage.GENERATING, "step 3/4"),
            org.assertj.core.groups.Tuple.tuple(Progress.Stage.GENERATING, "step 4/4"));
    assertThat(progress.subList(1, 6))
        .extracting(Progress::fraction)
        .containsExactly(0.0, 0.25, 0.5, 0.75, 1.0);
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(result.image()));
    assertThat(image.getWidth()).isEqualTo(768);
    assertThat(image.getHeight()).isEqualTo(512);
    assertThat(result.type()).isEqualTo(ImageType.PNG);
    assertThat(result.width()).isEqualTo(768);
    assertThat(result.seed()).isEqualTo(42);
    assertThat(result.backend()).isEqualTo("local-klein");
    assertThat(result.cost()).isEqualByComparingTo("1.5");
    assertThat(result.taskId()).isEqualTo("127.0.0.1:" + w.port() + "/01JOBLOCAL0000000000000001");

    FakeKleinWorker.RecordedGenerate sent = w.takeGenerate();
    assertThat(sent.outcome()).isEqualTo("succeed");
    assertThat(sent.body().get("prompt").asText()).isEqualTo("a red fox in snow");
    assertThat(sent.body().get("width").asInt()).isEqualTo(768);
    assertThat(sent.body().get("height").asInt()).isEqualTo(512);
    assertThat(sent.body().get("seed").asLong()).isEqualTo(42);
    assertThat(sent.body().get("output_format").asText()).isEqualTo("png");
    assertThat(sent.body().get("id").asText()).isEqualTo("01JOBLOCAL0000000000000001");
    assertThat(sent.body().get("steps").isNull()).isTrue();
    assertThat(sent.body().get("references").size()).isZero();
  }

  @Test
  void referencesAreSentAsBase64AndTheLargestSeedIsAccepted() {
    FakeKleinWorker w = worker(FakeKleinWorker.builder());
    LocalKleinBackend backend = backend(false, w);
    byte[] png = TestImages.solidPng(32, 48, java.awt.Color.BLUE);
    ReferenceImage ref = ReferenceImage.of("ref1", ImageType.PNG, 32, 48, png);

    GenerationResult result =
        generate(backend, job("klein-4b", 2048, 2048, 4_294_967_295L, List.of(ref, ref)));

    assertThat(result.width()).isEqualTo(2048);
    assertThat(result.seed()).isEqualTo(4_294_967_295L);
    FakeKleinWorker.RecordedGenerate sent = w.takeGenerate();
    assertThat(sent.body().get("references").get(1).get("data").asText())
        .isEqualTo(java.util.Base64.getEncoder().encodeToString(png));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "invalid_request     | INVALID_OPTION      | width: must be a multiple of 16 in 64..2048; got 1000",
        "too_many_references | TOO_MANY_REFERENCES | references: at most 4 reference images; got 5. Remove some.",
        "bad_image           | INVALID_REFERENCE   | references[1]: not a decodable PNG, JPEG or WebP image. Attach another image.",
        "prompt_too_long     | PROMPT_TOO_LONG     | prompt: must fit in 512 tokens with the chat template; got about 700.",
        "out_of_memory       | BACKEND_FAILED      | CUDA out of memory at 2048x2048; try a smaller --size."
      })
  void eachErrorCodeTellsTheUserTheWorkersWords(
      String code, UserError.Code expected, String message) {
    FakeKleinWorker w = worker(FakeKleinWorker.builder());
    w.enqueue(KleinScenario.error(2, code, message));
    LocalKleinBackend backend = backend(false, w);

    assertThatThrownBy(() -> generate(backend, job()))
        .isInstanceOfSatisfying(
            UserError.class,
            e -> {
              assertThat(e.code()).isEqualTo(expected);
              assertThat(e.getMessage()).contains(message);
            });
    assertThat(w.generates()).as("not retried: the request itself failed").hasSize(1);
  }

  @Test
  void errorMessagesReadAsSentences() {
    FakeKleinWorker w = worker(FakeKleinWorker.builder());
    w.enqueue(
        KleinScenario.refuse(
            "invalid_request", "width: must be a multiple of 16 in 64..2048; got 1000"),
        KleinScenario.error(1, "out_of_memory", "CUDA out of memory."));
    LocalKleinBackend backend = backend(false, w);

    assertThatThrownBy(() -> generate(backend, job()))
        .hasMessage(
            "The local klein worker refused the request: "
                + "width: must be a multiple of 16 in 64..2048; got 1000. Change that and try again.");
    assertThatThrownBy(() -> generate(backend, job()))
        .hasMessage(
            "The local klein worker ran out of GPU memory: "
                + "CUDA out of memory. You were not charged.");
  }

  @Test
  void anInternalErrorGetsAGeneralMessageNotTheWorkersText() {
    FakeKleinWorker w = worker(FakeKleinWorker.builder());
    w.enqueue(
        KleinScenario.error(
            3, "internal", "Traceback (most recent call last): /home/admin/secret.py"));
    LocalKleinBackend backend = backend(false, w);

    assertThatThrownBy(() -> generate(backend, job()))
        .isInstanceOfSatisfying(
            UserError.class,
            e -> {
              assertThat(e.code()).isEqualTo(UserError.Code.BACKEND_FAILED);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "The local klein worker could not make this image (job "
                          + "01JOBLOCAL0000000000000001). You were not charged; try again, and tell an admin if it repeats.")
                  .doesNotContain("Traceback");
            });
  }

  @Test
  void theWorkersOwnValidationRefusesReferencesItCannotTake() {
    FakeKleinWorker w = worker(FakeKleinWorker.builder().maxReferences(2));
    LocalKleinBackend backend = backend(false, w);
    ReferenceImage good =
        ReferenceImage.of(
            "a", ImageType.PNG, 16, 16, TestImages.solidPng(16, 16, java.awt.Color.RED));
    ReferenceImage broken =
        ReferenceImage.of(
            "b", ImageType.PNG, 16, 16, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2});

    assertThatThrownBy(
            () -> generate(backend, job("klein-4b", 512, 512, 1, List.of(good, good, good))))
        .isInstanceOfSatisfying(
            UserError.class,
            e -> {
              assertThat(e.code()).isEqualTo(UserError.Code.TOO_MANY_REFERENCES);
              assertThat(e.getMessage())
                  .isEqualTo("references: at most 2 reference images; got 3. Remove some.");
            });
    assertThatThrownBy(() -> generate(backend, job("klein-4b", 512, 512, 1, List.of(good, broken))))
        .isInstanceOfSatisfying(
            UserError.class,
            e -> {
              assertThat(e.code()).isEqualTo(UserError.Code.INVALID_REFERENCE);
              assertThat(e.getMessage())
                  .startsWith("references[1]: not a decodable PNG, JPEG or WebP image");
            });
  }

  @Test
  void jobsGoToTheWorkerWithTheShortestReportedQueue() {
    FakeKleinWorker busy = worker(FakeKleinWorker.builder().queue(6, 2));
    FakeKleinWorker idle = worker(FakeKleinWorker.builder().queue(0, 1));
    LocalKleinBackend backend = backend(false, busy, idle);

    generate(backend, job());
    assertThat(idle.generates()).hasSize(1);
    assertThat(busy.generates()).isEmpty();

    idle.setQueue(20, 4);
    backend.refreshHealth();
    generate(backend, job());
    assertThat(busy.generates()).hasSize(1);
    assertThat(idle.generates()).hasSize(1);
  }

  @Test
  void ourOwnJobsInFlightCountTowardAWorkersLoad() throws Exception {
    FakeKleinWorker a =
        worker(FakeKleinWorker.builder().batchCapacity(1).stepDelay(Duration.ofMillis(300)));
    FakeKleinWorker b =
        worker(FakeKleinWorker.builder().batchCapacity(1).stepDelay(Duration.ofMillis(300)));
    LocalKleinBackend backend = backend(false, a, b);

    var first =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> backend.generate(job(), p -> {}), executor);
    var second =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> backend.generate(job(), p -> {}), executor);
    first.get(30, java.util.concurrent.TimeUnit.SECONDS);
    second.get(30, java.util.concurrent.TimeUnit.SECONDS);

    assertThat(a.generates())
        .as("no health refresh between them: only the in-flight count spread them")
        .hasSize(1);
    assertThat(b.generates()).hasSize(1);
  }

  @Test
  void aWorkerThatDiesMidStreamLosesTheJobToAnotherWorker() {
    FakeKleinWorker dying = worker(FakeKleinWorker.builder());
    FakeKleinWorker other = worker(FakeKleinWorker.builder().queue(3, 0));
    dying.enqueue(KleinScenario.dieAfterStep(2));
    LocalKleinBackend backend = backend(false, dying, other);

    GenerationResult result = generate(backend, job());

    assertThat(result.taskId()).startsWith("127.0.0.1:" + other.port() + "/");
    assertThat(dying.generates()).hasSize(1);
    assertThat(other.generates()).hasSize(1);
    assertThat(progress)
        .extracting(Progress::detail)
        .containsSubsequence(
            "step 1/4", "step 2/4", "worker restarted, retrying", "step 1/4", "step 4/4");
    assertThat(backend.workers().get(0).problem())
        .isEqualTo("is not answering (connection refused)");
  }

  @Test
  void aDroppedConnectionIsRetriedOnTheSameWorkerOnceItAnswersAgain() {
    FakeKleinWorker w = worker(FakeKleinWorker.builder());
    w.enqueue(KleinScenario.dropAfterStep(1));
    LocalKleinBackend backend = backend(false, w);

    GenerationResult result = generate(backend, job());

    assertThat(result.width()).isEqualTo(768);
    assertThat(w.generates())
        .extracting(FakeKleinWorker.RecordedGenerate::outcome)
        .containsExactly("drop", "succeed");
    assertThat(progress).extracting(Progress::detail).contains("worker restarted, retrying");
    assertThat(progress)
        .extracting(Progress::text)
        .as("what a chat shows")
        .contains("Worker restarted, retrying…");
  }

  @Test
  void aWorkerShuttingDownSendsTheJobElsewhere() {
    FakeKleinWorker leaving = worker(FakeKleinWorker.builder());
    FakeKleinWorker other = worker(FakeKleinWorker.builder().queue(5, 0));
    leaving.enqueue(KleinScenario.refuse("shutting_down", "the worker is shutting down"));
    LocalKleinBackend backend = backend(false, leaving, other);

    generate(backend, job());

    assertThat(other.generates()).hasSize(1);
  }

  @Test
  void aFullWorkerIsAskedAgainAfterAWait() {
    FakeKleinWorker w = worker(FakeKleinWorker.builder());
    w.enqueue(KleinScenario.refuse("busy", "the queue is full (64 waiting)"));
    LocalKleinBackend backend = backend(false, w);

    GenerationResult result = generate(backend, job());

    assertThat(result.width()).isEqualTo(768);
    assertThat(w.generates())
        .extracting(FakeKleinWorker.RecordedGenerate::outcome)
        .containsExactly("busy", "succeed");
    assertThat(progress).extracting(Progress::detail).contains("local worker busy, retrying");
    assertThat(clock.instant()).isAfterOrEqualTo(MutableClock.DEFAULT_START.plusSeconds(1));
  }

  @Test
  void workersThatStayFullEndTheJobAsUnavailable() {
    FakeKleinWorker w = worker(FakeKleinWorker.builder());
    for (int i = 0; i < 3; i++) {
      w.enqueue(KleinScenario.refuse("busy", "the queue is full (64 waiting)"));
    }
    LocalKleinBackend backend = backend(false, w);

    assertThatThrownBy(() -> generate(backend, job()))
        .isInstanceOfSatisfying(
            UserError.class,
            e -> {
              assertThat(e.code()).isEqualTo(UserError.Code.BACKEND_UNAVAILABLE);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "The local klein workers are busy (last: worker "
                          + w.url()
                          + " is full (busy)). You were not charged; try again in a minute.");
            });
  }

  @Test
  void aJobLostThreeTimesFailsWithoutAFourthTry() {
    FakeKleinWorker w = worker(FakeKleinWorker.builder());
    w.enqueue(
        KleinScenario.dropAfterStep(1),
        KleinScenario.dropAfterStep(0),
        KleinScenario.dropAfterStep(3));
    LocalKleinBackend backend = backend(false, w);

    assertThatThrownBy(() -> generate(backend, job()))
        .isInstanceOfSatisfying(
            UserError.class,
            e -> {
              assertThat(e.code()).isEqualTo(UserError.Code.BACKEND_FAILED);
              assertThat(e.getMessage())
                  .startsWith(
                      "The local klein runtime lost this image 3 times (last: worker "
                          + w.url()
                          + " ")
                  .endsWith(
                      "You were not charged; try again in a minute, and tell an admin if it repeats.");
            });
    assertThat(w.generates()).hasSize(3);
  }

  @Test
  void aLostWorkerThatNeverComesBackEndsTheJobAfterTheRequeueWait() {
    FakeKleinWorker w = worker(FakeKleinWorker.builder());
    w.enqueue(KleinScenario.dieAfterStep(1));
    LocalKleinBackend backend =
        backend(
            LocalRuntimeConfig.of(List.of(w.url()), null, false)
                .withRequeueWait(Duration.ofSeconds(30)));

    assertThatThrownBy(() -> generate(backend, job()))
        .isInstanceOfSatisfying(
            UserError.class,
            e -> {
              assertThat(e.code()).isEqualTo(UserError.Code.BACKEND_UNAVAILABLE);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "Local runtime unavailable: worker "
                          + w.url()
                          + " is not answering (connection refused). You were not charged; try again in a minute, and tell an "
                          + "admin if it lasts.");
            });
    assertThat(clock.instant())
        .as("waited the requeue wait on the injected clock")
        .isAfterOrEqualTo(MutableClock.DEFAULT_START.plusSeconds(30));
  }

  @Test
  void aRestartedWorkerTakesTheRequeuedJob() {
    FakeKleinWorker w = worker(FakeKleinWorker.builder());
    w.enqueue(KleinScenario.dieAfterStep(1));
    Sleeper restartAfterTwoWaits =
        new Sleeper() {
          int waits;

          @Override
          public void sleep(Duration d) {
            clock.advance(d);
            if (++waits == 2) {
              w.acceptConnections(); // the supervisor restarted it
            }
          }
        };
    LocalKleinBackend backend =
        new LocalKleinBackend(
            LocalRuntimeConfig.of(List.of(w.url()), null, false),
            BigDecimal.ONE,
            LocalKleinBackend.defaultHttp(),
            clock,
            restartAfterTwoWaits,
            executor);
    open.add(backend);
    backend.refreshHealth();

    GenerationResult result = generate(backend, job());

    assertThat(result.width()).isEqualTo(768);
    assertThat(w.generates())
        .extracting(FakeKleinWorker.RecordedGenerate::outcome)
        .containsExactly("die", "succeed");
  }

  @Test
  void noHealthyWorkerIsARefusalThatSaysWhy() {
    FakeKleinWorker down = worker(FakeKleinWorker.builder());
    down.refuseConnections();
    FakeKleinWorker loading = worker(FakeKleinWorker.builder().status("loading"));
    LocalKleinBackend backend = backend(false, down, loading);
    GenerationRequest klein = job().request();

    assertThat(backend.refusal(klein))
        .contains(
            "local runtime unavailable: worker "
                + down.url()
                + " is not answering (connection refused); worker "
                + loading.url()
                + " is still loading the model (status loading)");
    assertThat(backend.claims(klein)).isTrue();

    loading.setStatus("ok");
    backend.refreshHealth();
    assertThat(backend.refusal(klein)).isEmpty();
  }

  @Test
  void otherModelsAndUnservedKleinSizesAreRefusedButNotClaimed() {
    FakeKleinWorker w = worker(FakeKleinWorker.builder().model("klein-4b", "distilled"));
    LocalKleinBackend backend = backend(false, w);
    GenerationRequest pro = job().request().withSeed(1);
    pro =
        new GenerationRequest(
            CATALOG.require("pro"),
            "x",
            new ImageSize(512, 512),
            false,
            1L,
            false,
            null,
            null,
            2,
            ImageType.PNG,
            0,
            false);
    GenerationRequest nine = job("klein-9b", 512, 512, 1, List.of()).request();

    assertThat(backend.refusal(pro))
        .contains("runs only the klein models on local workers; pro is not one");
    assertThat(backend.claims(pro)).isFalse();
    assertThat(backend.refusal(nine))
        .contains("no healthy local worker serves klein-9b (they serve klein-4b)");
    assertThat(backend.claims(nine)).as("klein-9b may go to BFL: no worker serves it").isFalse();
  }

  @Test
  void withFallbackAllowedKleinIsNotClaimed() {
    FakeKleinWorker w = worker(FakeKleinWorker.builder());
    w.refuseConnections();
    LocalKleinBackend backend = backend(true, w);

    assertThat(backend.refusal(job().request())).isPresent();
    assertThat(backend.claims(job().request())).isFalse();
  }

  @Test
  void retrieveWorkersReportsHealthForTheDoctor() {
    FakeKleinWorker w =
        worker(
            FakeKleinWorker.builder()
                .model("klein-9b", "base")
                .device("cuda:0", "NVIDIA H100 80GB HBM3", 80L << 30)
                .queue(1, 2)
                .batchCapacity(8));
    LocalKleinBackend backend = backend(false, w);

    WorkerReport report = backend.retrieveWorkers().get(0);

    assertThat(report.healthy()).isTrue();
    WorkerHealth h = report.health();
    assertThat(h.describe()).isEqualTo("klein-9b base on cuda:0 (NVIDIA H100 80GB HBM3)");
    assertThat(h.memory().totalBytes()).isEqualTo(80L << 30);
    assertThat(h.waiting()).isEqualTo(1);
    assertThat(h.running()).isEqualTo(2);
    assertThat(h.batchCapacity()).isEqualTo(8);
    assertThat(h.defaultSteps()).isEqualTo(50);
    assertThat(h.protocol()).isEqualTo(1);
  }
}
