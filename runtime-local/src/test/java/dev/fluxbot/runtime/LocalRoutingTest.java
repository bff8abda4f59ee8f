package dev.fluxbot.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeKleinWorker;
import dev.fluxbot.testkit.KleinScenario;
import dev.fluxbot.testkit.MutableClock;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeKleinWorkerExtension;
import java.math.BigDecimal;
import java.net.URI;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The whole imagine pipeline with the local runtime first and the fake BFL API behind it. */
class LocalRoutingTest {
  private static final long LOCAL_PRICE_MILLI = 1_500;

  private final MutableClock clock = new MutableClock();
  private final Sleeper sleeper = clock::advance;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  @RegisterExtension
  final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.clock(clock));

  @RegisterExtension final FakeKleinWorkerExtension workerFake = new FakeKleinWorkerExtension();
  private final FakeBflApi bfl = bflFake.get();
  private final FakeKleinWorker worker = workerFake.get();
  private final Requester alice =
      new Requester("telegram", "alice", "Alice", "chat9", Set.of(), false);
  private final List<AutoCloseable> open = new ArrayList<>();
  private QuotaService quota;

  @TempDir Path dir;

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open.reversed()) {
      c.close();
    }
    executor.shutdownNow();
  }

  private ImagineService service(boolean fallbackToBfl) {
    Database db = Database.sqlite(dir.resolve("fluxbot.db"));
    open.add(db);
    LocalKleinBackend local =
        new LocalKleinBackend(
            LocalRuntimeConfig.of(List.of(worker.url()), null, fallbackToBfl),
            BigDecimal.valueOf(LOCAL_PRICE_MILLI, 3),
            LocalKleinBackend.defaultHttp(),
            clock,
            sleeper,
            executor);
    open.add(local);
    local.refreshHealth();
    BflBackend remote =
        new BflBackend(
            BflConfig.defaults(Secret.of(bfl.key())).withBaseUrl(URI.create(bfl.baseUrl())),
            new OkHttpClient(),
            clock,
            sleeper,
            new Random(1));
    FluxbotCore core =
        FluxbotCore.builder(db)
            .imagesIn(dir.resolve("images"))
            .backends(local, remote)
            .executor(executor)
            .schedulerSettings(new JobScheduler.Settings(4, Map.of(), 100))
            .quotaSettings(
                new QuotaService.Settings(ZoneOffset.UTC, QuotaService.Period.DAY, 50_000, 4, null))
            .imagineSettings(new ImagineService.Settings(LOCAL_PRICE_MILLI, 0))
            .clock(clock)
            .random(new Random(7))
            .build();
    open.add(core);
    quota = core.quota();
    return core.imagine();
  }

  private ImageReply imagine(ImagineService service, String text) {
    return service.imagine(
        new ImagineCommand(alice, text, Map.of(), List.of()), ChatReply.silent(), null);
  }

  @Test
  void kleinRunsLocallyAndIsChargedTheLocalPriceOnceEvenAfterARetry() {
    ImagineService service = service(false);
    worker.enqueue(KleinScenario.dropAfterStep(2));

    ImageReply reply = imagine(service, "a red fox --ar 16:9 --seed 7 --format png");

    assertThat(reply.result().backend()).isEqualTo("local-klein");
    assertThat(reply.result().width()).isEqualTo(1344);
    assertThat(reply.result().cost()).isEqualByComparingTo("1.5");
    assertThat(worker.generates()).hasSize(2);
    assertThat(quota.status(alice).spentMilli()).isEqualTo(LOCAL_PRICE_MILLI);
    assertThat(bfl.submits()).isEmpty();
  }

  @Test
  void otherModelsGoToBfl() {
    ImagineService service = service(false);

    ImageReply reply = imagine(service, "a red fox --model pro --seed 7");

    assertThat(reply.result().backend()).isEqualTo("bfl");
    assertThat(worker.generates()).isEmpty();
  }

  @Test
  void withNoHealthyWorkerKleinFallsBackToBflWhenAllowed() {
    worker.refuseConnections();
    ImagineService service = service(true);
    bfl.enqueue(Scenario.ready().withCost(1.4));

    ImageReply reply = imagine(service, "a red fox --seed 7");

    assertThat(reply.result().backend()).isEqualTo("bfl");
    assertThat(bfl.takeSubmit().body().get("seed").asLong()).isEqualTo(7);
    assertThat(quota.status(alice).spentMilli()).isEqualTo(1_400);
  }

  @Test
  void withNoHealthyWorkerAndNoFallbackTheUserHearsTheLocalRuntimeIsUnavailable() {
    worker.refuseConnections();
    ImagineService service = service(false);

    assertThatThrownBy(() -> imagine(service, "a red fox --seed 7"))
        .isInstanceOfSatisfying(
            UserError.class,
            e -> {
              assertThat(e.code()).isEqualTo(UserError.Code.BACKEND_UNAVAILABLE);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "Local runtime unavailable: worker "
                          + worker.url()
                          + " is not answering (connection refused). No other backend runs klein-4b here; try again in a minute,"
                          + " or tell an admin if it lasts.");
            });
    assertThat(bfl.submits()).isEmpty();
    assertThat(quota.status(alice).spentMilli()).isZero();
    assertThat(quota.status(alice).reservedMilli()).isZero();
  }
}
