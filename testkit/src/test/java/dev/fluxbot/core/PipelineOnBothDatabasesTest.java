package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.backend.BackendTask;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.testkit.MutableClock;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The job store and the whole pipeline's concurrency and restart cases, on SQLite and on a real
 * PostgreSQL.
 */
class PipelineOnBothDatabasesTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-21T12:00:00Z"));
  private final Requester alice =
      new Requester("telegram", "alice", "Alice", "chat9", Set.of("r1"), false);
  private static final QuotaService.Settings QUOTA =
      new QuotaService.Settings(ZoneOffset.UTC, QuotaService.Period.DAY, 50_000, 1_000, null);

  @RegisterExtension
  final FluxbotCoreExtension cores =
      new FluxbotCoreExtension(
          b ->
              b.clock(clock)
                  .quotaSettings(QUOTA)
                  .schedulerSettings(new JobScheduler.Settings(4, Map.of(), 10_000)));

  private int services;

  private Database db(Database.Dialect dialect) {
    return cores.on(dialect).database();
  }

  private QuotaService quota(Database db) {
    return new QuotaService(db, QUOTA, clock);
  }

  private UnaryOperator<FluxbotCore.Builder> with(ImageBackend backend) {
    return b -> b.backends(backend).random(new Random(100 + services++));
  }

  @ParameterizedTest
  @EnumSource(Database.Dialect.class)
  void aJobRowKeepsEverythingThroughItsLife(Database.Dialect dialect) {
    Database db = db(dialect);
    JobStore jobs = new JobStore(db, ModelCatalog.builtIn(), clock);
    GenerationRequest request =
        new CommandParser(ModelCatalog.builtIn(), CommandParser.Settings.defaults())
            .parse(
                "a \"quoted\" fox 🦊 --model flex --steps 28 --guidance 4.5 --ar 16:9 --format png",
                Map.of(),
                2)
            .withSeed(4_294_967_295L);
    JobStore.Job job =
        JobStore.Job.queued(
            "01JOB000000000000000000001",
            alice,
            "/imagine a fox",
            request,
            List.of("a".repeat(64), "b".repeat(64)),
            "{\"chat\":9,\"message\":17}",
            "f".repeat(64),
            15_000,
            "01PARENT000000000000000000",
            ImageReply.FollowUp.VARY,
            clock.instant());
    jobs.create(job);
    assertThat(jobs.find(job.id())).contains(job);
    assertThat(jobs.unfinished()).containsExactly(job);

    clock.advance(Duration.ofSeconds(1));
    assertThat(jobs.markRunning(job.id(), "bfl")).isTrue();
    jobs.recordTask(
        job.id(),
        new BackendTask("bfl", "task-7", "https://api.eu2.bfl.ai/v1/get_result?id=task-7"));
    JobStore.Job running = jobs.find(job.id()).orElseThrow();
    assertThat(running.state()).isEqualTo(JobStore.State.RUNNING);
    assertThat(running.task())
        .isEqualTo(
            new BackendTask("bfl", "task-7", "https://api.eu2.bfl.ai/v1/get_result?id=task-7"));
    assertThat(running.startedAt()).isEqualTo(clock.instant());
    // BFL's call reached another instance: it keeps it in the row for this one
    dev.fluxbot.core.store.BackendCalls calls = new dev.fluxbot.core.store.BackendCalls(db);
    assertThat(calls.kept("task-7")).isEmpty();
    assertThat(calls.keep("task-7", "{\"id\":\"task-7\",\"status\":\"Ready\"}")).isTrue();
    assertThat(calls.kept("task-7")).contains("{\"id\":\"task-7\",\"status\":\"Ready\"}");
    assertThat(calls.keep("task-unknown", "{}")).isFalse();

    jobs.succeed(job.id(), 14_500, "c".repeat(64), ImageType.PNG, 1344, 768, false);
    JobStore.Job done = jobs.find(job.id()).orElseThrow();
    assertThat(done.state()).isEqualTo(JobStore.State.SUCCEEDED);
    assertThat(done.costMilli()).isEqualTo(14_500);
    assertThat(done.imageType()).isEqualTo(ImageType.PNG);
    assertThat(done.request()).isEqualTo(request);
    assertThat(done.requester()).isEqualTo(alice);
    assertThat(jobs.unfinished()).isEmpty();
    assertThat(calls.keep("task-7", "{}")).isFalse(); // its job has ended

    JobStore.Job other =
        JobStore.Job.queued(
            "01JOB000000000000000000002",
            alice,
            "x",
            request.withSeed(1),
            List.of("a".repeat(64), "b".repeat(64)),
            null,
            null,
            1_000,
            null,
            null,
            clock.instant());
    jobs.create(other);
    jobs.fail(other.id(), new UserError(UserError.Code.MODERATED, "blocked"));
    assertThat(jobs.find(other.id()).orElseThrow().state()).isEqualTo(JobStore.State.MODERATED);
    jobs.fail(other.id(), new UserError(UserError.Code.BACKEND_FAILED, "late"));
    assertThat(jobs.find(other.id()).orElseThrow().errorMessage())
        .as("an ended job stays ended")
        .isEqualTo("blocked");
    assertThat(jobs.list("telegram", "alice", 10))
        .extracting(JobStore.Job::id)
        .containsExactly(other.id(), job.id());
  }

  @ParameterizedTest
  @EnumSource(Database.Dialect.class)
  void twoHundredConcurrentJobsAgainstFiftyCreditsDeliverExactlyFifty(Database.Dialect dialect)
      throws Exception {
    Database db = db(dialect);
    InstantBackend backend = new InstantBackend();
    ImagineService s = cores.start(with(backend)).imagine();
    int jobs = 200;
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<ImageReply>> results = new ArrayList<>();
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<java.util.concurrent.Future<CompletableFuture<ImageReply>>> submitted =
          new ArrayList<>();
      for (int i = 0; i < jobs; i++) {
        int seed = i;
        submitted.add(
            pool.submit(
                () -> {
                  go.await();
                  return s.submit(
                      new ImagineCommand(alice, "a fox --seed " + seed, Map.of(), List.of()),
                      ChatReply.silent(),
                      null);
                }));
      }
      go.countDown();
      for (var f : submitted) {
        results.add(f.get(60, TimeUnit.SECONDS));
      }
    }
    AtomicInteger delivered = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    for (CompletableFuture<ImageReply> r : results) {
      try {
        r.get(60, TimeUnit.SECONDS);
        delivered.incrementAndGet();
      } catch (java.util.concurrent.ExecutionException e) {
        assertThat(((UserError) e.getCause()).code()).isEqualTo(UserError.Code.QUOTA_EXCEEDED);
        refused.incrementAndGet();
      }
    }
    assertThat(delivered.get()).isEqualTo(50);
    assertThat(refused.get()).isEqualTo(150);
    assertThat(backend.runs.get()).isEqualTo(50);
    QuotaService.Status status = quota(db).status(alice);
    assertThat(status.spentMilli()).isEqualTo(50_000);
    assertThat(status.reservedMilli()).isZero();
  }

  @ParameterizedTest
  @EnumSource(Database.Dialect.class)
  void aStartedTaskIsResumedAfterARestartAndChargedOnce(Database.Dialect dialect) throws Exception {
    Database db = db(dialect);
    InstantBackend dying = new InstantBackend();
    dying.hang = new CountDownLatch(1);
    CompletableFuture<ImageReply> lost =
        cores
            .start(with(dying))
            .imagine()
            .submit(
                new ImagineCommand(alice, "a fox --seed 3", Map.of(), List.of()),
                ChatReply.silent(),
                null);
    assertThat(dying.taskStarted.await(30, TimeUnit.SECONDS)).isTrue();

    InstantBackend after = new InstantBackend();
    List<CompletableFuture<ImageReply>> resumed =
        cores
            .startBeside(with(after)) // the first process hangs, not stopped
            .imagine()
            .resumeUnfinished(j -> true, j -> ChatReply.silent());
    assertThat(resumed).hasSize(1);
    ImageReply done = resumed.get(0).get(30, TimeUnit.SECONDS);
    assertThat(done.request().seed()).isEqualTo(3);
    assertThat(after.resumed.get()).isEqualTo(1);
    assertThat(after.runs.get()).isZero();
    assertThat(quota(db).status(alice).spentMilli()).isEqualTo(1_000);
    assertThat(quota(db).held()).isEmpty();

    dying.hang.countDown();
    try {
      lost.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException expected) {
      // the old process's late failure changes nothing
    }
    assertThat(quota(db).status(alice).spentMilli()).isEqualTo(1_000);
    assertThat(
            new JobStore(db, ModelCatalog.builtIn(), clock)
                .find(done.jobId())
                .orElseThrow()
                .state())
        .isEqualTo(JobStore.State.SUCCEEDED);
  }

  static byte[] png(int w, int h) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * A local-style backend (1 credit an image) that answers at once, or hangs after starting its
   * task.
   */
  static final class InstantBackend implements ImageBackend {
    final AtomicInteger runs = new AtomicInteger();
    final AtomicInteger resumed = new AtomicInteger();
    final CountDownLatch taskStarted = new CountDownLatch(1);
    volatile CountDownLatch hang;

    @Override
    public String name() {
      return "instant";
    }

    @Override
    public Optional<String> refusal(GenerationRequest request) {
      return Optional.empty();
    }

    @Override
    public boolean canResume() {
      return true;
    }

    @Override
    public GenerationResult generate(GenerationJob job, ProgressListener progress) {
      runs.incrementAndGet();
      progress.onTask(new BackendTask(name(), "t-" + job.id(), null));
      taskStarted.countDown();
      if (hang != null) {
        try {
          hang.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new UserError(UserError.Code.CANCELLED, "the process died");
      }
      return result(job);
    }

    @Override
    public GenerationResult resume(GenerationJob job, BackendTask task, ProgressListener progress) {
      resumed.incrementAndGet();
      return result(job);
    }

    private GenerationResult result(GenerationJob job) {
      return new GenerationResult(
          png(64, 64),
          ImageType.PNG,
          64,
          64,
          job.seed(),
          BigDecimal.ZERO,
          name(),
          null,
          Duration.ZERO);
    }
  }
}
