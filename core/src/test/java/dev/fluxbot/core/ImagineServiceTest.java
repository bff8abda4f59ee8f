package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fluxbot.core.backend.BackendTask;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageSize;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.seedcache.SeedCache;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.JobStore;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole pipeline on a real SQLite database and image store, with an in-process backend. */
class ImagineServiceTest {
  private final Requester alice =
      new Requester("discord", "alice", "Alice", "guild1", java.util.Set.of(), false);
  private final Requester bob =
      new Requester("discord", "bob", "Bob", "guild1", java.util.Set.of(), false);
  private final InstantSource clock = InstantSource.fixed(Instant.parse("2026-11-21T12:00:00Z"));
  private final RecordingReply reply = new RecordingReply();

  @TempDir Path dir;

  private Database db;
  private int services;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void open() {
    db = Database.sqlite(dir.resolve("fluxbot.db"));
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
    db.close();
  }

  private ImagineService service(ImageBackend backend, Executor executor) {
    return service(backend, executor, JobScheduler.Settings.defaults());
  }

  private ImagineService service(
      ImageBackend backend, Executor executor, JobScheduler.Settings settings) {
    return service(backend, executor, settings, SeedCache.Settings.defaults());
  }

  private ImagineService service(
      ImageBackend backend,
      Executor executor,
      JobScheduler.Settings settings,
      SeedCache.Settings cacheSettings) {
    FluxbotCore core =
        FluxbotCore.builder(db)
            .imagesIn(dir.resolve("images"))
            .backends(backend)
            .executor(executor)
            .schedulerSettings(settings)
            .seedCacheSettings(cacheSettings)
            .quotaSettings(QUOTA)
            .imagineSettings(new ImagineService.Settings(1000, 0, List.of()))
            .clock(clock)
            .random(new Random(7 + services++))
            .build();
    open.add(core);
    return core.imagine();
  }

  private static final QuotaService.Settings QUOTA =
      new QuotaService.Settings(ZoneOffset.UTC, QuotaService.Period.DAY, 50_000, 2, null);

  private QuotaService quota() {
    return new QuotaService(db, QUOTA, clock);
  }

  private ImagineService service(ImageBackend backend) {
    return service(backend, Executors.newVirtualThreadPerTaskExecutor());
  }

  private ImageReply imagine(ImagineService s, Requester who, String text, ImageSource... refs) {
    return s.imagine(
        new ImagineCommand(who, text, Map.of(), List.of(refs)), reply, "{\"kind\":\"test\"}");
  }

  private JobStore jobs() {
    return new JobStore(db, ModelCatalog.builtIn(), clock);
  }

  @Test
  void theSameRequestWithTheSameSeedComesFromTheCacheForFree() {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend);
    ImageReply first = imagine(s, alice, "a fox --seed 7 --model pro");
    assertThat(first.cached()).isFalse();
    assertThat(quota().status(alice).spentMilli()).isEqualTo(3_000);

    ImageReply again = imagine(s, alice, "a fox --seed 7 --model pro");
    assertThat(again.cached()).isTrue();
    assertThat(again.result().image()).isEqualTo(first.result().image());
    assertThat(again.result().backend()).isEqualTo("cache");
    assertThat(backend.generated).hasSize(1);
    assertThat(quota().status(alice).spentMilli()).as("a hit is free").isEqualTo(3_000);
    JobStore.Job cachedJob = jobs().find(again.jobId()).orElseThrow();
    assertThat(cachedJob.cached()).isTrue();
    assertThat(cachedJob.state()).isEqualTo(JobStore.State.SUCCEEDED);
    assertThat(cachedJob.costMilli()).isZero();
  }

  @Test
  void noCacheAndPreviewModelsAlwaysRun() {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend);
    imagine(s, alice, "a fox --seed 7");
    assertThat(imagine(s, alice, "a fox --seed 7 --no-cache").cached()).isFalse();
    imagine(s, alice, "a fox --seed 7 --model pro-preview");
    assertThat(imagine(s, alice, "a fox --seed 7 --model pro-preview").cached()).isFalse();
    assertThat(backend.generated).hasSize(4);
  }

  @Test
  void theActualCostIsChargedAndAFailureIsRefunded() {
    FakeBackend backend = new FakeBackend();
    backend.cost = new BigDecimal("2.5");
    ImagineService s = service(backend);
    imagine(s, alice, "a fox");
    assertThat(quota().status(alice).spentMilli()).isEqualTo(2_500);

    backend.failWith = new UserError(UserError.Code.MODERATED, "blocked");
    UserError e = catchThrowableOfType(UserError.class, () -> imagine(s, alice, "a fox again"));
    assertThat(e.code()).isEqualTo(UserError.Code.MODERATED);
    QuotaService.Status status = quota().status(alice);
    assertThat(status.spentMilli()).isEqualTo(2_500);
    assertThat(status.reservedMilli()).isZero();
    assertThat(jobs().list("discord", "alice", 10))
        .extracting(JobStore.Job::state)
        .containsExactly(JobStore.State.MODERATED, JobStore.State.SUCCEEDED);
  }

  @Test
  void overQuotaIsRefusedBeforeAnythingRuns() {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend);
    quota()
        .setRule(
            QuotaService.Subject.user("discord", "guild1", "alice"),
            QuotaService.Period.DAY,
            5_000);
    imagine(s, alice, "a fox --model pro");
    UserError e =
        catchThrowableOfType(
            UserError.class, () -> imagine(s, alice, "a fox --model pro --seed 1"));
    assertThat(e.code()).isEqualTo(UserError.Code.QUOTA_EXCEEDED);
    assertThat(e.getMessage()).contains("2 of 5 credits left today").contains("needs 3");
    assertThat(backend.generated).hasSize(1);
    assertThat(reply.events).last().isEqualTo("failed QUOTA_EXCEEDED");
  }

  @Test
  void aBannedUserIsRefused() {
    ImagineService s = service(new FakeBackend());
    quota().ban("discord", "*", "bob", "spam");
    assertThat(catchThrowableOfType(UserError.class, () -> imagine(s, bob, "a fox")).code())
        .isEqualTo(UserError.Code.BANNED);
  }

  @Test
  void seedLastSurvivesARestart() {
    FakeBackend backend = new FakeBackend();
    long seed = imagine(service(backend), alice, "a fox").request().seed();
    ImageReply again = imagine(service(backend), alice, "a fox in snow --seed last");
    assertThat(again.request().seed()).isEqualTo(seed);
  }

  @Test
  void followUpsDeriveFromTheStoredJob() throws IOException {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend);
    ImageReply parent =
        imagine(
            s, alice, "a red fox --ar 16:9 --seed 7", ImageSource.bytes("cat.png", png(400, 300)));

    CompletableFuture<ImageReply> pressed =
        s.followUp(bob, parent.jobId(), ImageReply.FollowUp.REROLL, null, reply, null);
    assertThat(pressed).as("nothing waits: it ran on the thread that pressed").isCompleted();
    assertThat(backend.threads).last().isEqualTo(Thread.currentThread());
    ImageReply reroll = join(pressed);
    assertThat(reroll.request().seed()).isNotEqualTo(7);
    assertThat(reroll.request().prompt()).isEqualTo("a red fox");
    assertThat(backend.generated.get(1).references()).hasSize(1);

    ImageReply vary =
        join(s.followUp(bob, parent.jobId(), ImageReply.FollowUp.VARY, "a blue fox", reply, null));
    assertThat(vary.request().seed()).isEqualTo(7);
    assertThat(vary.request().prompt()).isEqualTo("a blue fox");

    ImageReply big =
        join(s.followUp(bob, parent.jobId(), ImageReply.FollowUp.UPSCALE_2K, null, reply, null));
    assertThat(big.request().seed()).isEqualTo(7);
    assertThat(big.request().size()).isEqualTo(new ImageSize(2048, 1168));

    ImageReply ref =
        join(
            s.followUp(
                bob,
                parent.jobId(),
                ImageReply.FollowUp.USE_AS_REFERENCE,
                "in watercolour",
                reply,
                null));
    assertThat(backend.generated.get(4).references().get(0).bytes())
        .isEqualTo(parent.result().image());
    assertThat(ref.request().prompt()).isEqualTo("in watercolour");
    assertThat(jobs().find(ref.jobId()).orElseThrow().parentJobId()).isEqualTo(parent.jobId());
    assertThat(quota().status(bob).spentMilli()).as("the presser pays").isPositive();
  }

  @Test
  void varyReadsTheEditedTextWithTheImagineGrammarAndKeepsWhatIsNotTyped() {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend);
    ImageReply parent = imagine(s, alice, "a red fox --ar 16:9 --seed 7 --model pro --format png");

    ImageReply flagged =
        join(
            s.followUp(
                bob,
                parent.jobId(),
                ImageReply.FollowUp.VARY,
                "a red fox at dawn --ar 1:1",
                reply,
                null));
    assertThat(flagged.request().prompt()).isEqualTo("a red fox at dawn");
    assertThat(backend.generated.get(1).request().prompt()).isEqualTo("a red fox at dawn");
    assertThat(flagged.request().size()).isEqualTo(new ImageSize(1024, 1024));
    assertThat(flagged.request().seed()).isEqualTo(7);
    assertThat(flagged.request().model().id()).isEqualTo("pro");
    assertThat(flagged.request().format()).isEqualTo(ImageType.PNG);

    ImageReply plain =
        join(
            s.followUp(
                bob, parent.jobId(), ImageReply.FollowUp.VARY, "a red fox at night", reply, null));
    assertThat(plain.request().size()).isEqualTo(parent.request().size());
    assertThat(plain.request().seed()).isEqualTo(7);

    ImageReply reseeded =
        join(
            s.followUp(
                bob,
                parent.jobId(),
                ImageReply.FollowUp.VARY,
                "--model flex --steps 20 --seed 9 a fox",
                reply,
                null));
    assertThat(reseeded.request().seed()).isEqualTo(9);
    assertThat(reseeded.request().model().id()).isEqualTo("flex");
    assertThat(reseeded.request().steps()).isEqualTo(20);
    assertThat(reseeded.request().prompt()).isEqualTo("a fox");
    long spent = quota().status(bob).spentMilli();

    UserError badSeed =
        (UserError)
            catchThrowableOfType(
                    java.util.concurrent.CompletionException.class,
                    () ->
                        s.followUp(
                                bob,
                                parent.jobId(),
                                ImageReply.FollowUp.VARY,
                                "a fox --seed -1",
                                reply,
                                null)
                            .join())
                .getCause();
    assertThat(badSeed.code()).isEqualTo(UserError.Code.INVALID_OPTION);
    assertThat(badSeed.getMessage()).startsWith("--seed: must be a whole number");
    UserError tooLong =
        (UserError)
            catchThrowableOfType(
                    java.util.concurrent.CompletionException.class,
                    () ->
                        s.followUp(
                                bob,
                                parent.jobId(),
                                ImageReply.FollowUp.VARY,
                                "a fox " + "x".repeat(4000),
                                reply,
                                null)
                            .join())
                .getCause();
    assertThat(tooLong.code()).isEqualTo(UserError.Code.PROMPT_TOO_LONG);
    assertThat(quota().status(bob).spentMilli())
        .as("nothing charged for a refusal")
        .isEqualTo(spent);
    assertThat(backend.generated).hasSize(4);
  }

  @Test
  void useAsReferenceTakesTypedFlagsOverTheOriginalModel() {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend);
    ImageReply parent = imagine(s, alice, "a red fox --seed 7 --model pro");
    ImageReply ref =
        join(
            s.followUp(
                bob,
                parent.jobId(),
                ImageReply.FollowUp.USE_AS_REFERENCE,
                "in watercolour --model flex --seed 11",
                reply,
                null));
    assertThat(ref.request().model().id()).isEqualTo("flex");
    assertThat(ref.request().seed()).isEqualTo(11);
    ImageReply plain =
        join(
            s.followUp(
                bob, parent.jobId(), ImageReply.FollowUp.USE_AS_REFERENCE, "in ink", reply, null));
    assertThat(plain.request().model().id()).isEqualTo("pro");
  }

  @Test
  void aButtonWhoseImageTheCacheBudgetRemovedSaysSoAndTheOthersStillWork() throws IOException {
    long oneImage = Math.max(png(1344, 768).length, png(1024, 1024).length);
    FakeBackend backend = new FakeBackend();
    ImagineService s =
        service(
            backend,
            Executors.newVirtualThreadPerTaskExecutor(),
            JobScheduler.Settings.defaults(),
            new SeedCache.Settings(1L << 20, oneImage + 1));
    ImageReply parent = imagine(s, alice, "a red fox --ar 16:9 --seed 7");
    imagine(
        s,
        alice,
        "a green owl --ar 1:1"); // the delivered fox leaves the budget, and its file with it

    CompletableFuture<ImageReply> asReference =
        s.followUp(
            bob,
            parent.jobId(),
            ImageReply.FollowUp.USE_AS_REFERENCE,
            "in watercolour",
            reply,
            null);
    ImageReply reroll =
        join(s.followUp(bob, parent.jobId(), ImageReply.FollowUp.REROLL, null, reply, null));

    UserError gone =
        (UserError)
            catchThrowableOfType(java.util.concurrent.CompletionException.class, asReference::join)
                .getCause();
    assertThat(gone.code()).isEqualTo(UserError.Code.INVALID_REFERENCE);
    assertThat(gone.getMessage())
        .isEqualTo(
            "That job's image is no longer stored (the image store keeps within its "
                + "size limit by removing what was used least recently). Attach the image to a new /imagine instead.");
    assertThat(reroll.request().prompt()).isEqualTo("a red fox");
    assertThat(backend.generated).hasSize(3);
  }

  @Test
  void aTaskStartedBeforeACrashIsResumedNotStartedAgain() throws Exception {
    CountDownLatch crashed = new CountDownLatch(1);
    FakeBackend dying = new FakeBackend();
    dying.hangAfterTask = crashed;
    ImagineService before = service(dying);
    CompletableFuture<ImageReply> lost =
        before.submit(
            new ImagineCommand(alice, "a fox --model pro --seed 3", Map.of(), List.of()),
            reply,
            "{\"kind\":\"test\"}");
    assertThat(dying.taskStarted.await(10, TimeUnit.SECONDS)).isTrue();
    String jobId = jobs().unfinished().get(0).id();
    assertThat(jobs().find(jobId).orElseThrow().task().taskId()).isEqualTo("task-1");

    FakeBackend after = new FakeBackend();
    RecordingReply resumedReply = new RecordingReply();
    List<CompletableFuture<ImageReply>> resumed =
        service(after).resumeUnfinished(j -> true, j -> resumedReply);
    ImageReply done = join(resumed.get(0));
    assertThat(done.jobId()).isEqualTo(jobId);
    assertThat(after.resumedTasks).containsExactly("task-1");
    assertThat(after.generated).isEmpty();
    assertThat(jobs().find(jobId).orElseThrow().state()).isEqualTo(JobStore.State.SUCCEEDED);
    assertThat(quota().status(alice).spentMilli()).isEqualTo(3_000);
    assertThat(quota().held()).isEmpty();

    crashed
        .countDown(); // the "dead" first process wakes up late: nothing is charged or changed twice
    assertThat(catchThrowableOfType(java.util.concurrent.CompletionException.class, lost::join))
        .isNotNull();
    assertThat(quota().status(alice).spentMilli()).isEqualTo(3_000);
    assertThat(jobs().find(jobId).orElseThrow().state()).isEqualTo(JobStore.State.SUCCEEDED);
  }

  @Test
  void aResumedTaskIsChargedTheCostStatedAtSubmitAndItsCaptionShowsWhatWasCharged()
      throws Exception {
    CountDownLatch crashed = new CountDownLatch(1);
    FakeBackend dying = new FakeBackend();
    dying.hangAfterTask = crashed;
    dying.taskCost = new BigDecimal("2.4");
    ImagineService before = service(dying);
    before.submit(
        new ImagineCommand(alice, "a fox --model pro --seed 3", Map.of(), List.of()),
        reply,
        "{\"kind\":\"test\"}");
    assertThat(dying.taskStarted.await(10, TimeUnit.SECONDS)).isTrue();
    String jobId = jobs().unfinished().get(0).id();
    assertThat(jobs().find(jobId).orElseThrow().task().cost()).isEqualByComparingTo("2.4");

    FakeBackend after =
        new FakeBackend(); // reports no cost on resume, as BFL's polling answer does not
    RecordingReply resumedReply = new RecordingReply();
    ImageReply done = join(service(after).resumeUnfinished(j -> true, j -> resumedReply).get(0));
    assertThat(quota().status(alice).spentMilli())
        .as("the stated cost, not pro's estimate of 3")
        .isEqualTo(2_400);
    assertThat(jobs().find(jobId).orElseThrow().costMilli()).isEqualTo(2_400);
    assertThat(done.result().cost()).as("the caption's cost").isEqualByComparingTo("2.4");
    crashed.countDown();
  }

  @Test
  void theCaptionShowsTheChargeWhenTheBackendReportsNoCost() {
    FakeBackend backend = new FakeBackend(); // cost null: the estimate is charged and shown
    ImageReply r = imagine(service(backend), alice, "a fox --model pro");
    assertThat(quota().status(alice).spentMilli()).isEqualTo(3_000);
    assertThat(r.result().cost()).isEqualByComparingTo("3");
  }

  @Test
  void aQueuedJobRunsAfterARestart() {
    List<Runnable> neverRun = new CopyOnWriteArrayList<>();
    FakeBackend backend = new FakeBackend();
    ImagineService before = service(backend, neverRun::add);
    before.submit(
        new ImagineCommand(alice, "a fox --seed 5", Map.of(), List.of()),
        reply,
        "{\"kind\":\"test\"}");
    assertThat(jobs().unfinished()).hasSize(1).allMatch(j -> j.state() == JobStore.State.QUEUED);

    List<CompletableFuture<ImageReply>> resumed =
        service(backend).resumeUnfinished(j -> true, j -> null);
    assertThat(join(resumed.get(0)).request().seed()).isEqualTo(5);
    assertThat(backend.generated).hasSize(1);
    assertThat(jobs().unfinished()).isEmpty();
  }

  @Test
  void aJobMadeAfterTheLeftoversWereReadIsNotTakenForOneOfThem() {
    List<Runnable> neverRun = new CopyOnWriteArrayList<>();
    FakeBackend backend = new FakeBackend();
    service(backend, neverRun::add)
        .submit(
            new ImagineCommand(alice, "a fox --seed 5", Map.of(), List.of()),
            reply,
            "{\"kind\":\"test\"}");
    String leftover = jobs().unfinished().get(0).id();

    List<Runnable> queued = new CopyOnWriteArrayList<>();
    ImagineService restarted = service(backend, queued::add);
    ImagineService.Leftovers left = restarted.leftovers(); // read before the platforms start
    RecordingReply pressed = new RecordingReply(); // a button pressed between start and resume
    restarted.submit(
        new ImagineCommand(bob, "an owl --seed 6", Map.of(), List.of()),
        pressed,
        "{\"kind\":\"test\"}");
    List<CompletableFuture<ImageReply>> resumed =
        restarted.resumeUnfinished(left, j -> true, j -> null);

    assertThat(resumed).hasSize(1);
    assertThat(queued).as("the leftover and the new job each queued once").hasSize(2);
    queued.forEach(Runnable::run);
    assertThat(join(resumed.get(0)).jobId()).isEqualTo(leftover);
    assertThat(pressed.events).noneMatch(e -> e.startsWith("failed"));
    assertThat(jobs().unfinished()).isEmpty();
    assertThat(backend.generated)
        .extracting(j -> j.request().prompt())
        .containsExactlyInAnyOrder("a fox", "an owl");
  }

  @Test
  void aQueuedJobCanBeCancelledAndItsCreditsComeBack() {
    List<Runnable> neverRun = new CopyOnWriteArrayList<>();
    ImagineService s = service(new FakeBackend(), neverRun::add);
    CompletableFuture<ImageReply> job =
        s.submit(new ImagineCommand(alice, "a fox --model pro", Map.of(), List.of()), reply, null);
    String id = jobs().unfinished().get(0).id();
    assertThat(quota().status(alice).reservedMilli()).isEqualTo(3_000);
    assertThat(s.cancel(id)).isTrue();
    UserError e =
        (UserError)
            catchThrowableOfType(java.util.concurrent.CompletionException.class, job::join)
                .getCause();
    assertThat(e.code()).isEqualTo(UserError.Code.CANCELLED);
    assertThat(reply.events).last().isEqualTo("failed CANCELLED");
    assertThat(quota().status(alice).reservedMilli()).isZero();
    assertThat(jobs().find(id).orElseThrow().state()).isEqualTo(JobStore.State.CANCELLED);
    assertThat(s.cancel(id)).as("an ended job cannot be cancelled again").isFalse();
  }

  @Test
  void aJobThatStartsAtOnceIsCreatedRunningInOneCommitAndOneThatWaitsIsMarkedRunningWhenItStarts() {
    List<Runnable> executorTasks = new CopyOnWriteArrayList<>();
    FakeBackend backend = new FakeBackend();
    ImagineService s =
        service(backend, executorTasks::add, new JobScheduler.Settings(1, Map.of("fake", 1), 100));
    List<JobStore.Job> seenWhileGenerating = new CopyOnWriteArrayList<>();
    backend.onGenerate = job -> seenWhileGenerating.add(jobs().find(job.id()).orElseThrow());

    imagine(
        s,
        alice,
        "a first fox --no-cache"); // the seed cache's first write also counts its disk total
    seenWhileGenerating.clear();
    long before = db.commits();
    ImageReply now = imagine(s, alice, "a fox --no-cache");
    assertThat(db.commits() - before)
        .as("created RUNNING with its hold; the backend's task; the result; the delivery")
        .isEqualTo(4);
    assertThat(seenWhileGenerating)
        .singleElement()
        .satisfies(
            j -> {
              assertThat(j.state()).isEqualTo(JobStore.State.RUNNING);
              assertThat(j.backend()).isEqualTo("fake");
              assertThat(j.startedAt()).isNotNull();
            });
    assertThat(jobs().find(now.jobId()).orElseThrow().state()).isEqualTo(JobStore.State.SUCCEEDED);

    CompletableFuture<ImageReply> holder =
        s.submit(
            new ImagineCommand(bob, "an owl --no-cache", Map.of(), List.of()),
            reply,
            null); // started: its task, not yet run, holds the backend's one slot
    long queuedBefore = db.commits();
    CompletableFuture<ImageReply> waits =
        s.runOrSubmit(
            new ImagineCommand(alice, "a hare --no-cache", Map.of(), List.of()), reply, null);
    assertThat(waits).as("the backend is full: queued, not run here").isNotDone();
    assertThat(db.commits() - queuedBefore).as("created QUEUED with its hold").isEqualTo(1);
    executorTasks.remove(0).run(); // bob's job; its end starts alice's
    holder.join();
    long startedBefore = db.commits();
    executorTasks.remove(0).run();
    assertThat(waits.join().jobId()).isNotNull();
    assertThat(db.commits() - startedBefore)
        .as("marked RUNNING; the backend's task; the result; the delivery")
        .isEqualTo(4);
    assertThat(seenWhileGenerating)
        .last()
        .satisfies(j -> assertThat(j.state()).isEqualTo(JobStore.State.RUNNING));
  }

  @Test
  void aJobThatCouldStartButIsRefusedByItsQuotaGivesItsSlotBack() {
    FakeBackend backend = new FakeBackend();
    List<Runnable> executorTasks = new CopyOnWriteArrayList<>();
    JobScheduler.Settings one = new JobScheduler.Settings(1, Map.of("fake", 1), 100);
    ImagineService s = service(backend, executorTasks::add, one);
    quota()
        .setRule(
            QuotaService.Subject.user("discord", "guild1", "alice"),
            QuotaService.Period.DAY,
            2_000);
    UserError refused =
        catchThrowableOfType(
            UserError.class, () -> imagine(s, alice, "a fox --model pro --no-cache"));
    assertThat(refused.code())
        .as("refused in the transaction that would have created the job")
        .isEqualTo(UserError.Code.QUOTA_EXCEEDED);
    ImageReply next = imagine(s, bob, "an owl --no-cache");
    assertThat(backend.threads)
        .as("the backend's one slot was free again, for a job run here")
        .containsExactly(Thread.currentThread());
    assertThat(next.jobId()).isNotNull();
    assertThat(executorTasks).isEmpty();
  }

  @Test
  void runOrSubmitRunsAJobThatCanStartOnTheCallingThreadAndQueuesOneThatMustWait() {
    List<Runnable> executorTasks = new CopyOnWriteArrayList<>();
    FakeBackend backend = new FakeBackend();
    ImagineService s =
        service(backend, executorTasks::add, new JobScheduler.Settings(2, Map.of("fake", 2), 100));

    CompletableFuture<ImageReply> first =
        s.runOrSubmit(new ImagineCommand(alice, "a fox", Map.of(), List.of()), reply, null);
    assertThat(first).isCompleted();
    assertThat(backend.threads).containsExactly(Thread.currentThread());
    assertThat(executorTasks).isEmpty();

    CompletableFuture<ImageReply> sent =
        s.submit(new ImagineCommand(alice, "a hare", Map.of(), List.of()), reply, null);
    CompletableFuture<ImageReply> second =
        s.submit(new ImagineCommand(bob, "an owl", Map.of(), List.of()), reply, null);
    CompletableFuture<ImageReply> third =
        s.runOrSubmit(new ImagineCommand(bob, "a lynx", Map.of(), List.of()), reply, null);
    assertThat(third).as("two jobs run on the backend (its cap): the third waits").isNotDone();
    assertThat(reply.events).contains("queued 1");
    while (!executorTasks.isEmpty()) {
      executorTasks.remove(0).run();
    }
    assertThat(List.of(sent, second, third)).allMatch(CompletableFuture::isDone);
    assertThat(third.join().jobId()).isNotEqualTo(first.join().jobId());
    assertThat(backend.generated).hasSize(4);
  }

  @Test
  void aReplyAddressWhichMayHoldATokenIsKeptOnlyUntilTheAnswerIsDeliveredOrTheJobFailed() {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend);
    String address = "{\"kind\":\"discord\",\"token\":\"interaction-token\"}";
    ImageReply made =
        s.imagine(new ImagineCommand(alice, "a fox", Map.of(), List.of()), reply, address);
    assertThat(jobs().find(made.jobId()).orElseThrow().replyAddress()).isNull();

    backend.failWith = new UserError(UserError.Code.MODERATED, "blocked");
    catchThrowableOfType(
        UserError.class,
        () ->
            s.imagine(
                new ImagineCommand(alice, "a fox again", Map.of(), List.of()), reply, address));
    assertThat(jobs().list("discord", "alice", 10))
        .extracting(JobStore.Job::replyAddress)
        .containsOnlyNulls();
    int withToken =
        db.read(
            c -> {
              try (var st = c.createStatement();
                  var rs =
                      st.executeQuery(
                          "SELECT count(*) FROM jobs WHERE reply_address LIKE "
                              + "'%interaction-token%'")) {
                rs.next();
                return rs.getInt(1);
              }
            });
    assertThat(withToken).isZero();
  }

  @Test
  void anImageThatCouldNotBeDeliveredIsKeptAndDeliveredAfterARestart() {
    FakeBackend backend = new FakeBackend();
    RecordingReply broken =
        new RecordingReply() {
          @Override
          public void image(ImageReply r) {
            throw new IllegalStateException("Discord said 500");
          }
        };
    ImageReply made =
        service(backend)
            .imagine(
                new ImagineCommand(alice, "a fox --model pro", Map.of(), List.of()),
                broken,
                "{\"kind\":\"test\"}");
    assertThat(jobs().find(made.jobId()).orElseThrow().state()).isEqualTo(JobStore.State.SUCCEEDED);
    assertThat(jobs().undelivered(20)).extracting(JobStore.Job::id).containsExactly(made.jobId());
    assertThat(jobs().find(made.jobId()).orElseThrow().replyAddress())
        .as("kept until delivered")
        .isEqualTo("{\"kind\":\"test\"}");
    assertThat(quota().status(alice).spentMilli()).as("charged, not refunded").isEqualTo(3_000);

    RecordingReply working = new RecordingReply();
    List<CompletableFuture<ImageReply>> again =
        service(backend).resumeUnfinished(j -> true, j -> working);
    assertThat(join(again.get(0)).result().image()).isEqualTo(made.result().image());
    assertThat(working.events).containsExactly("image false");
    assertThat(jobs().undelivered(20)).isEmpty();
    assertThat(jobs().find(made.jobId()).orElseThrow().replyAddress())
        .as("dropped once delivered")
        .isNull();
    assertThat(backend.generated).hasSize(1);
    assertThat(quota().status(alice).spentMilli()).isEqualTo(3_000);
  }

  @Test
  void aReservationWithoutAJobIsRefundedOnStart() {
    quota().reserve(alice, "01ORPHAN000000000000000000", "pro", 3_000, true);
    assertThat(quota().status(alice).reservedMilli()).isEqualTo(3_000);
    service(new FakeBackend()).resumeUnfinished(j -> true, j -> null);
    assertThat(quota().status(alice).reservedMilli()).isZero();
  }

  @Test
  void theOperatorIsNotDebited() {
    ImagineService s = service(new FakeBackend());
    imagine(s, Requester.operator(), "a fox --model max");
    assertThat(quota().held()).isEmpty();
    // listed in the usage report all the same: an operator who made images sees them there
    assertThat(quota().usage(Instant.EPOCH, Instant.parse("2030-01-01T00:00:00Z")))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.userId()).isEqualTo(Requester.OPERATOR);
              assertThat(r.modelId()).isEqualTo("max");
              assertThat(r.jobs()).isEqualTo(1);
            });
  }

  private static ImageReply join(CompletableFuture<ImageReply> f) {
    return f.orTimeout(30, TimeUnit.SECONDS).join();
  }

  static byte[] png(int w, int h) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", out);
    return out.toByteArray();
  }

  /**
   * An instant in-process backend that can fail, cost something, or "crash" after starting a task.
   */
  static final class FakeBackend implements ImageBackend {
    final List<GenerationJob> generated = new CopyOnWriteArrayList<>();
    final List<Thread> threads = new CopyOnWriteArrayList<>();
    final List<String> resumedTasks = new CopyOnWriteArrayList<>();
    final CountDownLatch taskStarted = new CountDownLatch(1);
    volatile BigDecimal cost;
    volatile BigDecimal taskCost;
    volatile UserError failWith;
    volatile CountDownLatch hangAfterTask;
    volatile java.util.function.Consumer<GenerationJob> onGenerate = job -> {};

    @Override
    public String name() {
      return "fake";
    }

    @Override
    public Optional<String> refusal(GenerationRequest request) {
      return Optional.empty();
    }

    @Override
    public boolean spendsBflCredits() {
      return true;
    }

    @Override
    public boolean canResume() {
      return true;
    }

    @Override
    public GenerationResult generate(GenerationJob job, ProgressListener progress) {
      generated.add(job);
      threads.add(Thread.currentThread());
      onGenerate.accept(job);
      progress.onTask(
          new BackendTask(name(), "task-" + generated.size(), "http://127.0.0.1:1/poll", taskCost));
      taskStarted.countDown();
      if (hangAfterTask != null) {
        try {
          hangAfterTask.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new UserError(UserError.Code.CANCELLED, "the process died");
      }
      if (failWith != null) {
        throw failWith;
      }
      return result(job);
    }

    @Override
    public GenerationResult resume(GenerationJob job, BackendTask task, ProgressListener progress) {
      resumedTasks.add(task.taskId());
      return result(job);
    }

    private GenerationResult result(GenerationJob job) {
      try {
        ImageSize size = job.request().size();
        byte[] image = png(size.width(), size.height());
        return new GenerationResult(
            image,
            ImageType.PNG,
            size.width(),
            size.height(),
            job.seed(),
            cost,
            name(),
            "task",
            Duration.ofMillis(1));
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }
  }

  static class RecordingReply implements ChatReply {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void accepted(String jobId, GenerationRequest request) {
      events.add("accepted");
    }

    @Override
    public void queued(int position) {
      events.add("queued " + position);
    }

    @Override
    public void progress(Progress progress) {
      events.add("progress " + progress.stage());
    }

    @Override
    public void image(ImageReply r) {
      events.add("image " + r.cached());
    }

    @Override
    public void failed(UserError error) {
      events.add("failed " + error.code());
    }
  }
}
