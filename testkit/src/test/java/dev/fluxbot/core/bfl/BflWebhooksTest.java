package dev.fluxbot.core.bfl;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpServer;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageSize;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeBflApi.WebhookSigning;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * BFL's calls back: the check of each call, and the real BFL client finishing a job on the fake
 * BFL's call over real sockets (real time: the calls come when the fake's tasks end).
 */
class BflWebhooksTest {
  private static final Secret SECRET = Secret.of("s3cret-of-this-installation-0123456789");

  @RegisterExtension final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b);

  private final FakeBflApi fake = bflFake.get();
  private final CommandParser parser =
      new CommandParser(ModelCatalog.builtIn(), CommandParser.Settings.defaults());
  private final List<Progress> progress = new CopyOnWriteArrayList<>();
  private HttpServer receiver;

  @AfterEach
  void stopReceiver() {
    if (receiver != null) {
      receiver.stop(0);
    }
  }

  private BflWebhooks hooks(Duration safetyPoll) {
    return new BflWebhooks(
        URI.create("http://127.0.0.1:1/base/"), SECRET, safetyPoll, InstantSource.system());
  }

  private static byte[] call(String id, String status) {
    return ("{\"id\":\"" + id + "\",\"status\":\"" + status + "\",\"result\":null}")
        .getBytes(UTF_8);
  }

  private static Map<String, String> signed(byte[] body) {
    return Map.of(
        "x-bfl-signature",
        "sha256="
            + HexFormat.of().formatHex(BflWebhooks.hmac(SECRET.reveal().getBytes(UTF_8), body)));
  }

  @Test
  void theUrlSitsBelowThePublicUrlAndTheSecretIsDerivedFromTheLinkKey() {
    assertThat(hooks(Duration.ofSeconds(5)).url())
        .isEqualTo(URI.create("http://127.0.0.1:1/base/bfl/webhook"));
    byte[] key = new byte[32];
    Secret a = BflWebhooks.deriveSecret(key);
    assertThat(a.reveal()).hasSize(64).isEqualTo(BflWebhooks.deriveSecret(new byte[32]).reveal());
    key[0] = 1;
    assertThat(BflWebhooks.deriveSecret(key).reveal()).isNotEqualTo(a.reveal());
  }

  @Test
  void aSignedCallReachesItsWaiterOnceAndEveryOtherCallIsRefused() throws Exception {
    BflWebhooks hooks = hooks(Duration.ofSeconds(5));
    byte[] body = call("task-1", "Ready");
    try (BflWebhooks.Waiter waiter = hooks.expect("task-1")) {
      assertThat(hooks.receive(body, Map.of())).isEqualTo(BflWebhooks.Receipt.BAD_SIGNATURE);
      assertThat(hooks.receive(body, Map.of("X-BFL-Signature", "sha256=00ff")))
          .isEqualTo(BflWebhooks.Receipt.BAD_SIGNATURE);
      assertThat(hooks.receive(body, Map.of("X-BFL-Signature", "sha256=not-hex")))
          .isEqualTo(BflWebhooks.Receipt.BAD_SIGNATURE);
      assertThat(hooks.receive(call("task-1", "Error"), signed(body))) // body changed
          .isEqualTo(BflWebhooks.Receipt.BAD_SIGNATURE);
      assertThat(hooks.receive(body, Map.of("X-Webhook-Secret", "wrong")))
          .isEqualTo(BflWebhooks.Receipt.BAD_SIGNATURE);
      assertThat(waiter.arrived()).isFalse();

      assertThat(hooks.receive(body, signed(body))).isEqualTo(BflWebhooks.Receipt.TAKEN);
      assertThat(waiter.await(Duration.ZERO))
          .get()
          .extracting(n -> n.path("status").asText())
          .isEqualTo("Ready");
      assertThat(hooks.receive(body, signed(body))).isEqualTo(BflWebhooks.Receipt.REPLAYED);
    }
    assertThat(hooks.receive(body, signed(body))).isEqualTo(BflWebhooks.Receipt.REPLAYED);
    byte[] other = call("task-2", "Ready");
    assertThat(hooks.receive(other, signed(other))).isEqualTo(BflWebhooks.Receipt.UNKNOWN_TASK);
    byte[] noId = "{\"status\":\"Ready\"}".getBytes(UTF_8);
    assertThat(hooks.receive(noId, signed(noId))).isEqualTo(BflWebhooks.Receipt.UNKNOWN_TASK);
  }

  @Test
  void theSharedSecretHeaderIsAcceptedToo() throws Exception {
    BflWebhooks hooks = hooks(Duration.ofSeconds(5));
    byte[] body = call("task-3", "Ready");
    try (BflWebhooks.Waiter waiter = hooks.expect("task-3")) {
      assertThat(hooks.receive(body, Map.of("X-Webhook-Secret", SECRET.reveal())))
          .isEqualTo(BflWebhooks.Receipt.TAKEN);
      assertThat(waiter.arrived()).isTrue();
    }
  }

  @Test
  void aCallThatComesBeforeTheSubmitsAnswerIsKeptForItsJob() throws Exception {
    BflWebhooks hooks = hooks(Duration.ofSeconds(5));
    byte[] body = call("early", "Ready");
    assertThat(hooks.receive(body, signed(body))).isEqualTo(BflWebhooks.Receipt.UNKNOWN_TASK);
    assertThat(hooks.receive(body, signed(body))).isEqualTo(BflWebhooks.Receipt.REPLAYED);
    try (BflWebhooks.Waiter waiter = hooks.expect("early")) {
      assertThat(waiter.await(Duration.ZERO)).isPresent();
    }
  }

  @Test
  void anotherInstancesTaskIsAcceptedAndAJobFinishedByPollingTakesItsLateCallQuietly()
      throws Exception {
    BflWebhooks hooks = hooks(Duration.ofSeconds(5));
    Map<String, String> kept = new HashMap<>();
    hooks.elsewhere(
        new BflWebhooks.Elsewhere() {
          @Override
          public boolean handOver(String taskId, String body) {
            return taskId.equals("elsewhere") && kept.put(taskId, body) == null;
          }

          @Override
          public java.util.Optional<String> handedOver(String taskId) {
            return java.util.Optional.ofNullable(kept.get(taskId));
          }
        });
    byte[] body = call("elsewhere", "Ready");
    assertThat(hooks.receive(body, signed(body))).isEqualTo(BflWebhooks.Receipt.ELSEWHERE);
    assertThat(hooks.handedOver("elsewhere"))
        .get()
        .extracting(n -> n.path("status").asText())
        .isEqualTo("Ready");
    hooks.expect("polled").close(); // finished by a poll, no call yet
    byte[] late = call("polled", "Ready");
    assertThat(hooks.receive(late, signed(late))).isEqualTo(BflWebhooks.Receipt.LATE);
  }

  @Test
  void threeMissedCallsInARowStopAskingForThem() {
    BflWebhooks hooks = hooks(Duration.ofSeconds(5));
    hooks.missed("a");
    hooks.missed("b");
    assertThat(hooks.active()).isTrue();
    hooks.missed("c");
    assertThat(hooks.active()).isFalse();
  }

  // --- the real client against the fake BFL ---

  private BflWebhooks serve(Duration safetyPoll) throws IOException {
    receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    BflWebhooks hooks =
        new BflWebhooks(
            URI.create("http://127.0.0.1:" + receiver.getAddress().getPort()),
            SECRET,
            safetyPoll,
            InstantSource.system());
    receiver.createContext(
        BflWebhooks.PATH,
        exchange -> {
          try (exchange) {
            Map<String, String> headers = new HashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k, v.get(0)));
            BflWebhooks.Receipt r =
                hooks.receive(exchange.getRequestBody().readAllBytes(), headers);
            exchange.sendResponseHeaders(r.status(), -1);
          }
        });
    receiver.start();
    return hooks;
  }

  private BflBackend backend(Duration waitLimit) {
    return new BflBackend(
        BflConfig.defaults(Secret.of(fake.key()))
            .withBaseUrl(URI.create(fake.baseUrl()))
            .withWaitLimit(waitLimit),
        new OkHttpClient(),
        InstantSource.system(),
        Sleeper.SYSTEM,
        new Random(1));
  }

  private GenerationJob job(String text) {
    GenerationRequest r = parser.parse(text, Map.of(), 0).withSeed(42);
    return new GenerationJob("job-1", r.withSize(new ImageSize(1024, 1024)), List.of());
  }

  @Test
  void theCallFinishesTheJobAtOnceWithoutAPoll() throws IOException {
    BflWebhooks hooks = serve(Duration.ofSeconds(60));
    BflBackend bfl = backend(Duration.ofSeconds(30));
    bfl.useWebhooks(hooks);
    fake.setWorkTime(Duration.ofMillis(300));

    Instant start = Instant.now();
    GenerationResult result = bfl.generate(job("a red fox"), progress::add);

    assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(30));
    assertThat(result.image()).isNotEmpty();
    FakeBflApi.RecordedSubmit submit = fake.submits().get(0);
    assertThat(submit.body().path("webhook_url").asText()).isEqualTo(hooks.url().toString());
    assertThat(submit.body().path("webhook_secret").asText()).isEqualTo(SECRET.reveal());
    assertThat(fake.webhookCalls())
        .singleElement()
        .satisfies(c -> assertThat(c.httpStatus()).isEqualTo(200));
    assertThat(fake.polls()).isEmpty();
  }

  @Test
  void aCallThatReachesAnotherInstanceIsKeptForTheOwnerAndDoesNotCountAsMissed()
      throws IOException {
    Map<String, String> database = new java.util.concurrent.ConcurrentHashMap<>();
    BflWebhooks.Elsewhere shared =
        new BflWebhooks.Elsewhere() {
          @Override
          public boolean handOver(String taskId, String body) {
            database.put(taskId, body);
            return true;
          }

          @Override
          public java.util.Optional<String> handedOver(String taskId) {
            return java.util.Optional.ofNullable(database.get(taskId));
          }
        };
    BflWebhooks other = serve(Duration.ofSeconds(60)); // the instance the public URL reaches
    other.elsewhere(shared);
    BflWebhooks owner =
        new BflWebhooks(
            other.url().resolve("/"), SECRET, Duration.ofSeconds(1), InstantSource.system());
    owner.elsewhere(shared);
    BflBackend bfl = backend(Duration.ofSeconds(30));
    bfl.useWebhooks(owner);

    for (int i = 0; i < BflWebhooks.MISSES_TO_STOP; i++) {
      assertThat(bfl.generate(job("a fox " + i), progress::add).image()).isNotEmpty();
    }

    assertThat(fake.webhookCalls())
        .extracting(FakeBflApi.RecordedWebhook::httpStatus)
        .containsOnly(202);
    assertThat(database).hasSize(BflWebhooks.MISSES_TO_STOP);
    assertThat(owner.active()).as("calls kept by another instance are not missed").isTrue();
  }

  @Test
  void theSharedSecretStyleOfCallFinishesTheJobToo() throws IOException {
    BflWebhooks hooks = serve(Duration.ofSeconds(60));
    BflBackend bfl = backend(Duration.ofSeconds(30));
    bfl.useWebhooks(hooks);
    fake.setWebhookSigning(WebhookSigning.SECRET_HEADER);

    assertThat(bfl.generate(job("a red fox"), progress::add).image()).isNotEmpty();
    assertThat(fake.webhookCalls())
        .singleElement()
        .satisfies(c -> assertThat(c.httpStatus()).isEqualTo(200));
  }

  @Test
  void aFailureInTheCallFailsTheJobWithBflsReason() throws IOException {
    BflBackend bfl = backend(Duration.ofSeconds(30));
    bfl.useWebhooks(serve(Duration.ofSeconds(60)));
    fake.enqueue(Scenario.moderated("Content Moderated", "Derivative Works Filter"));

    UserError e =
        catchThrowableOfType(UserError.class, () -> bfl.generate(job("a fox"), progress::add));

    assertThat(e.code()).isEqualTo(UserError.Code.MODERATED);
    assertThat(e.getMessage()).contains("Derivative Works Filter");
  }

  @Test
  void aForgedCallChangesNothingAndTheJobEndsAtItsWaitLimit() throws IOException {
    BflBackend bfl = backend(Duration.ofSeconds(3));
    bfl.useWebhooks(serve(Duration.ofSeconds(1)));
    fake.setWebhookSigning(WebhookSigning.WRONG_SIGNATURE);

    UserError e =
        catchThrowableOfType(UserError.class, () -> bfl.generate(job("a fox"), progress::add));

    assertThat(e.code()).isEqualTo(UserError.Code.TIMED_OUT);
    Await.until("the call", Duration.ofSeconds(5), () -> !fake.webhookCalls().isEmpty());
    assertThat(fake.webhookCalls())
        .singleElement()
        .satisfies(c -> assertThat(c.httpStatus()).isEqualTo(401));
    // The safety poll asked the global host, which keeps no tasks: once, then it stopped.
    assertThat(
            fake.requests(FakeBflApi.Host.API).stream()
                .filter(r -> r.path().equals("/v1/get_result")))
        .hasSize(1);
  }

  @Test
  void withoutWebhooksTheFirstPollWaitsForTheModelsTypicalTime() {
    MutableSleeps sleeps = new MutableSleeps();
    BflBackend bfl =
        new BflBackend(
            BflConfig.defaults(Secret.of(fake.key())).withBaseUrl(URI.create(fake.baseUrl())),
            new OkHttpClient(),
            InstantSource.system(),
            sleeps,
            new Random(1));
    fake.enqueue(Scenario.ready(), Scenario.ready());

    bfl.generate(job("a fox --model klein-4b"), progress::add);
    assertThat(sleeps.waits.get(0)).isEqualTo(Duration.ofMillis(1500));
    assertThat(sleeps.waits.get(1)).isEqualTo(Duration.ofMillis(250));
    sleeps.waits.clear();
    bfl.generate(job("a fox --model pro"), progress::add);
    assertThat(sleeps.waits.get(0)).isEqualTo(Duration.ofSeconds(9));
  }

  /** Records each wait and returns at once. */
  private static final class MutableSleeps implements Sleeper {
    final List<Duration> waits = new CopyOnWriteArrayList<>();

    @Override
    public void sleep(Duration d) {
      waits.add(d);
    }
  }
}
