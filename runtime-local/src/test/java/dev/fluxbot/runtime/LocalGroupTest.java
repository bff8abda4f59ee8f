package dev.fluxbot.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.FakeKleinWorker;
import dev.fluxbot.testkit.MutableClock;
import dev.fluxbot.testkit.junit.FakeKleinWorkerExtension;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --n 4} on the local klein runtime: the four images reach the worker together (it batches
 * what arrives together), even where a user may run one job at a time.
 */
class LocalGroupTest {
  private final MutableClock clock = new MutableClock();
  private final Sleeper sleeper = clock::advance;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  @RegisterExtension final FakeKleinWorkerExtension workerFake = new FakeKleinWorkerExtension();
  private final FakeKleinWorker worker = workerFake.get();
  private final Requester alice =
      new Requester("telegram", "alice", "Alice", "chat9", Set.of(), false);
  private final List<AutoCloseable> open = new ArrayList<>();

  @TempDir Path dir;

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open.reversed()) {
      c.close();
    }
    executor.shutdownNow();
  }

  @Test
  void theFourImagesOfAGroupAreAtTheWorkerTogether() throws Exception {
    Database db = Database.sqlite(dir.resolve("fluxbot.db"));
    open.add(db);
    LocalKleinBackend local =
        new LocalKleinBackend(
            LocalRuntimeConfig.of(List.of(worker.url()), null, false),
            BigDecimal.ONE,
            LocalKleinBackend.defaultHttp(),
            clock,
            sleeper,
            executor);
    open.add(local);
    local.refreshHealth();
    FluxbotCore core =
        FluxbotCore.builder(db)
            .imagesIn(dir.resolve("images"))
            .backends(local)
            .executor(executor)
            .schedulerSettings(new JobScheduler.Settings(1, Map.of(), 100))
            .quotaSettings(
                new QuotaService.Settings(ZoneOffset.UTC, QuotaService.Period.DAY, 50_000, 1, null))
            .imagineSettings(new ImagineService.Settings(1000, 0))
            .clock(clock)
            .random(new Random(7))
            .build();
    open.add(core);
    worker.setStepDelay(Duration.ofMillis(400));
    var done =
        core.imagine()
            .submit(
                new ImagineCommand(alice, "a red fox --n 4 --seed 7", Map.of(), List.of()),
                ChatReply.silent(),
                null);

    Await.until(
        "four generates at the worker at once",
        Duration.ofSeconds(20),
        () -> worker.activeGenerates() == 4);
    ImageReply first = done.get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(first.result().seed()).isEqualTo(7);
    assertThat(worker.generates()).hasSize(4);
    assertThat(core.quota().status(alice).spentMilli()).isEqualTo(4_000);
  }
}
