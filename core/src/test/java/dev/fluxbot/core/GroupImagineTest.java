package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fluxbot.core.ImagineServiceTest.FakeBackend;
import dev.fluxbot.core.ImagineServiceTest.RecordingReply;
import dev.fluxbot.core.chat.ChatTexts;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.JobGroups;
import dev.fluxbot.core.store.JobStore;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --n}: several images from one command, on a real SQLite database and image store. */
class GroupImagineTest {
  private final Requester alice = new Requester("discord", "alice", "Alice", "g1", Set.of(), false);
  private final InstantSource clock = InstantSource.fixed(Instant.parse("2026-11-21T12:00:00Z"));

  @TempDir Path dir;

  private Database db;
  private final List<AutoCloseable> open = new ArrayList<>();

  /** A reply that records each group it is given, whole. */
  static final class GroupRecorder extends RecordingReply {
    final List<GroupReply> groups = new CopyOnWriteArrayList<>();

    @Override
    public void group(GroupReply group) {
      groups.add(group);
      events.add("group " + group.members().size());
    }
  }

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

  private ImagineService service(FakeBackend backend, long creditsMilli, int perUser) {
    FluxbotCore core =
        FluxbotCore.builder(db)
            .imagesIn(dir.resolve("images"))
            .backends(backend)
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .schedulerSettings(new JobScheduler.Settings(perUser, Map.of(), 100))
            .quotaSettings(quota(creditsMilli))
            .imagineSettings(new ImagineService.Settings(1000, 0, List.of()))
            .clock(clock)
            .random(new Random(7))
            .build();
    open.add(core);
    return core.imagine();
  }

  private static QuotaService.Settings quota(long creditsMilli) {
    return new QuotaService.Settings(
        ZoneOffset.UTC, QuotaService.Period.DAY, creditsMilli, 2, null);
  }

  private ImagineCommand command(String text) {
    return new ImagineCommand(alice, text, Map.of(), List.of());
  }

  private JobStore jobs() {
    return new JobStore(db, ModelCatalog.builtIn(), clock);
  }

  @Test
  void fourImagesWithSeedsSToSPlus3AreFourJobsDeliveredInOneAnswerAndChargedEach() {
    FakeBackend backend = new FakeBackend();
    backend.cost = new java.math.BigDecimal("1.4");
    ImagineService s = service(backend, 50_000, 2);
    GroupRecorder reply = new GroupRecorder();

    ImageReply first = s.imagine(command("a fox --n 4 --seed 10"), reply, "{}");

    assertThat(reply.groups).hasSize(1);
    GroupReply group = reply.groups.get(0);
    assertThat(group.members()).hasSize(4);
    assertThat(group.images())
        .extracting(i -> i.result().seed())
        .containsExactly(10L, 11L, 12L, 13L);
    assertThat(first.jobId()).isEqualTo(group.groupId());
    assertThat(backend.generated).hasSize(4);
    assertThat(reply.events).containsOnlyOnce("group 4").doesNotContain("image false");
    for (String id : group.jobIds()) {
      JobStore.Job job = jobs().find(id).orElseThrow();
      assertThat(job.state()).isEqualTo(JobStore.State.SUCCEEDED);
      assertThat(jobs().undelivered(20)).noneMatch(j -> j.id().equals(id));
    }
    QuotaService q = new QuotaService(db, quota(50_000), clock);
    assertThat(q.status(alice).spentMilli()).isEqualTo(4 * 1_400);
    assertThat(q.held()).isEmpty();
    assertThat(new JobGroups(jobs()).of(group.jobIds().get(2)).orElseThrow().jobIds())
        .isEqualTo(group.jobIds());
    assertThat(ChatTexts.groupFacts(group))
        .contains("4 images", "seeds 1: 10, 2: 11, 3: 12, 4: 13");
    assertThat(GroupButtons.rows(group).get(0))
        .extracting(GroupButtons.Button::label)
        .containsExactly("U1", "U2", "U3", "U4", "R");
  }

  @Test
  void theSameCommandAgainComesFromTheSeedCacheImageByImageAndAMixedGroupWorks() {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend, 50_000, 2);
    s.imagine(command("a fox --n 2 --seed 20"), new GroupRecorder(), "{}");
    GroupRecorder reply = new GroupRecorder();

    s.imagine(command("a fox --n 3 --seed 20"), reply, "{}");

    GroupReply group = reply.groups.get(0);
    assertThat(group.images()).extracting(ImageReply::cached).containsExactly(true, true, false);
    assertThat(group.images()).extracting(i -> i.result().seed()).containsExactly(20L, 21L, 22L);
    assertThat(backend.generated).hasSize(3);
  }

  @Test
  void aGroupRunsTogetherEvenWhereAUserMayRunOneJobAtATime() throws Exception {
    FakeBackend backend = new FakeBackend();
    CountDownLatch allStarted = new CountDownLatch(4);
    backend.onGenerate =
        job -> {
          allStarted.countDown();
          try {
            if (!allStarted.await(20, TimeUnit.SECONDS)) {
              throw new AssertionError("the group's images did not run together");
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        };
    ImagineService s = service(backend, 50_000, 1);
    GroupRecorder reply = new GroupRecorder();

    s.imagine(command("a fox --n 4"), reply, "{}");

    assertThat(reply.groups.get(0).images()).hasSize(4);
  }

  @Test
  void moreImagesThanTheCreditsLeftAreRefusedWithTheNumbersAndNothingIsHeld() {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend, 2_500, 2);
    GroupRecorder reply = new GroupRecorder();

    UserError e =
        catchThrowableOfType(UserError.class, () -> s.imagine(command("a fox --n 4"), reply, "{}"));

    assertThat(e.code()).isEqualTo(UserError.Code.QUOTA_EXCEEDED);
    assertThat(e.getMessage()).startsWith("--n 4: these 4 images need ").contains("left");
    assertThat(backend.generated).isEmpty();
    assertThat(new QuotaService(db, quota(2_500), clock).held()).isEmpty();
    assertThat(jobs().list("discord", "alice", 10)).isEmpty();
  }

  @Test
  void badCountsAreRefusedNamingTheFlagTheRuleAndTheValue() {
    ImagineService s = service(new FakeBackend(), 50_000, 2);
    for (String bad : List.of("0", "5", "x")) {
      UserError e =
          catchThrowableOfType(
              UserError.class,
              () -> s.imagine(command("a fox --n " + bad), new GroupRecorder(), "{}"));
      assertThat(e.getMessage())
          .as(bad)
          .startsWith("--n: must be a whole number from 1 to 4")
          .contains("got \"" + bad + "\"")
          .contains("Example: --n 4");
    }
  }

  @Test
  void rerollUnderAGroupMakesTheWholeGroupAgainWithNewSeeds() {
    FakeBackend backend = new FakeBackend();
    ImagineService s = service(backend, 50_000, 2);
    GroupRecorder first = new GroupRecorder();
    s.imagine(command("a fox --n 3 --seed 5"), first, "{}");
    GroupReply group = first.groups.get(0);
    GroupRecorder again = new GroupRecorder();

    s.followUp(alice, group.groupId(), ImageReply.FollowUp.REROLL, null, again, "{}").join();

    GroupReply rerolled = again.groups.get(0);
    List<Long> seeds = rerolled.images().stream().map(i -> i.result().seed()).toList();
    assertThat(seeds).hasSize(3).doesNotContain(5L);
    assertThat(seeds.get(1)).isEqualTo(seeds.get(0) + 1);
    assertThat(seeds.get(2)).isEqualTo(seeds.get(0) + 2);
  }

  @Test
  void aGroupCutOffByACrashIsFinishedAndDeliveredOnceAfterARestart() throws Exception {
    CountDownLatch crashed = new CountDownLatch(1);
    FakeBackend dying = new FakeBackend();
    dying.hangAfterTask = crashed;
    ImagineService before = service(dying, 50_000, 2);
    CompletableFuture<ImageReply> lost =
        before.submit(command("a fox --model pro --n 2 --seed 3"), new GroupRecorder(), "{}");
    assertThat(dying.taskStarted.await(10, TimeUnit.SECONDS)).isTrue();

    FakeBackend after = new FakeBackend();
    GroupRecorder resumed = new GroupRecorder();
    List<CompletableFuture<ImageReply>> futures =
        service(after, 50_000, 2).resumeUnfinished(j -> true, j -> resumed);
    futures.forEach(CompletableFuture::join);

    assertThat(resumed.groups).hasSize(1);
    assertThat(resumed.groups.get(0).images())
        .extracting(i -> i.result().seed())
        .containsExactly(3L, 4L);
    assertThat(jobs().undelivered(20)).isEmpty();
    crashed.countDown();
    assertThat(catchThrowableOfType(CompletionException.class, lost::join)).isNotNull();
    assertThat(resumed.groups).hasSize(1);
  }

  @Test
  void theUsersDefaultNWinsOverTheScopesAndATypedNWinsOverBoth() {
    ImagineService s = service(new FakeBackend(), 50_000, 2);
    dev.fluxbot.core.store.SettingsStore settings =
        new dev.fluxbot.core.store.SettingsStore(db, clock);
    dev.fluxbot.core.chat.ChatTexts texts =
        new dev.fluxbot.core.chat.ChatTexts(
            new dev.fluxbot.core.chat.Markup() {
              @Override
              public String bold(String safeText) {
                return "*" + safeText + "*";
              }

              @Override
              public String escape(String userText) {
                return userText;
              }

              @Override
              public String user(String userId) {
                return "@" + userId;
              }

              @Override
              public String time(Instant at, Instant now) {
                return at.toString();
              }

              @Override
              public String channel(String channelId) {
                return "#" + channelId;
              }

              @Override
              public int maxText() {
                return 4000;
              }
            });
    dev.fluxbot.core.chat.ChatAdmin admin =
        new dev.fluxbot.core.chat.ChatAdmin(
            new QuotaService(db, quota(50_000), clock),
            settings,
            ModelCatalog.builtIn(),
            texts,
            clock);
    dev.fluxbot.core.chat.ChatSettings mine =
        new dev.fluxbot.core.chat.ChatSettings(settings, ModelCatalog.builtIn(), texts);
    dev.fluxbot.core.chat.ChatAdmin.Scope server =
        new dev.fluxbot.core.chat.ChatAdmin.Scope("discord", "g1", "on this server");

    assertThat(admin.defaultCount(server, "2"))
        .isEqualTo(
            "The default --n on this server is now *2*: each /imagine makes that many images"
                + " unless it says --n (1 to 4).");
    assertThat(count(s, settings, "a fox")).isEqualTo(2);
    assertThat(mine.changeCount("discord", "alice", "3")).startsWith("Your default --n is now *3*");
    assertThat(count(s, settings, "a fox")).isEqualTo(3);
    assertThat(count(s, settings, "a fox --n 1")).isEqualTo(1);
    GroupRecorder reply = new GroupRecorder();
    s.imagine(
        new ImagineCommand(
            alice, "a fox --seed 1", Map.of(), List.of(), settings.contextFor(alice)),
        reply,
        "{}");
    assertThat(reply.groups.get(0).members()).hasSize(3);

    for (String bad : List.of("0", "5", "x")) {
      assertThat(
              catchThrowableOfType(
                      IllegalArgumentException.class,
                      () -> mine.changeCount("discord", "alice", bad))
                  .getMessage())
          .startsWith("--n: must be a whole number from 1 to 4")
          .endsWith("got \"" + bad + "\"");
      assertThat(
              catchThrowableOfType(
                      IllegalArgumentException.class, () -> admin.defaultCount(server, bad))
                  .getMessage())
          .startsWith("default-n: must be a whole number from 1 to 4");
    }
    mine.changeCount("discord", "alice", "reset");
    assertThat(count(s, settings, "a fox")).isEqualTo(2);
    admin.defaultCount(server, "reset");
    assertThat(count(s, settings, "a fox")).isEqualTo(1);
  }

  private int count(ImagineService s, dev.fluxbot.core.store.SettingsStore settings, String text) {
    return s.count(
        new ImagineCommand(alice, text, Map.of(), List.of(), settings.contextFor(alice)));
  }
}
