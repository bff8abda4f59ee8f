package dev.fluxbot.core.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.quota.QuotaService.Period;
import dev.fluxbot.core.quota.QuotaService.Reservation;
import dev.fluxbot.core.quota.QuotaService.Settings;
import dev.fluxbot.core.quota.QuotaService.Status;
import dev.fluxbot.core.quota.QuotaService.Subject;
import dev.fluxbot.core.quota.QuotaService.UsageRow;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The quota ledger's behaviour, run once per database (see the subclasses). */
abstract class QuotaServiceContract {
  /** A Wednesday, 5 h 12 min before midnight UTC. */
  static final Instant WEDNESDAY_EVENING = Instant.parse("2026-01-14T18:48:00Z");

  @TempDir Path dir;

  final MutableClock clock = new MutableClock(WEDNESDAY_EVENING);
  private String url;
  Database db;

  /** A JDBC URL for a fresh, empty database. */
  abstract String newDatabaseUrl();

  @BeforeEach
  void openDatabase() {
    url = newDatabaseUrl();
    db = Database.open(url, null, null);
  }

  @AfterEach
  void closeDatabase() {
    db.close();
  }

  QuotaService quotas() {
    return quotas(Settings.defaults());
  }

  QuotaService quotas(Settings settings) {
    return new QuotaService(db, settings, clock);
  }

  /** The process dies and starts again: a new pool and a new service on the same database. */
  QuotaService restart(Settings settings) {
    db.close();
    db = Database.open(url, null, null);
    return quotas(settings);
  }

  static Requester user(String id, String... roles) {
    return in("guild1", id, roles);
  }

  static Requester in(String scope, String id, String... roles) {
    return new Requester("discord", id, id, scope, Set.of(roles), false);
  }

  static Settings withCap(int maxConcurrent, Long bflCapMilli) {
    return new Settings(ZoneOffset.UTC, Period.DAY, 50_000, maxConcurrent, bflCapMilli);
  }

  static UserError refusal(Runnable call) {
    return catchThrowableOfType(UserError.class, call::run);
  }

  // ---------------------------------------------------------------------------------------------
  // No overspend under concurrency

  @Test
  void twoHundredConcurrentReservationsAgainstFiftyCreditsLetExactlyFiftyThrough()
      throws Exception {
    QuotaService q = quotas(withCap(1_000, null));
    Requester alice = user("alice");
    List<String> reserved =
        runTogether(
            200,
            i -> {
              q.reserve(alice, "c" + i, "klein-4b", 1_000, false);
              return "c" + i;
            },
            () -> {
              Status s = q.status(alice);
              return s.spentMilli() + s.reservedMilli();
            });

    assertThat(reserved).hasSize(50);
    assertThat(refused.get()).isEqualTo(150);
    assertThat(maxSeen.get()).isLessThanOrEqualTo(50_000);
    assertThat(q.status(alice).reservedMilli()).isEqualTo(50_000);

    reserved.forEach(job -> q.commit(job, 1_000));
    Status after = q.status(alice);
    assertThat(after.spentMilli()).isEqualTo(50_000);
    assertThat(after.reservedMilli()).isZero();
    assertThat(after.leftMilli()).isZero();
    assertThat(q.held()).isEmpty();
  }

  @Test
  void twoHundredConcurrentUsersNeverPassTheMonthlyBflBudget() throws Exception {
    QuotaService q = quotas(withCap(2, 50_000L));
    List<String> reserved =
        runTogether(
            200,
            i -> {
              q.reserve(user("u" + i), "b" + i, "pro", 1_000, true);
              return "b" + i;
            },
            () -> 0L);

    assertThat(reserved).hasSize(50);
    assertThat(refused.get()).isEqualTo(150);
    assertThat(q.held()).hasSize(100);
    reserved.forEach(job -> q.commit(job, 1_000));
    assertThat(q.held()).isEmpty();
  }

  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicLong maxSeen = new AtomicLong();

  interface Attempt {
    String run(int i);
  }

  interface Sample {
    long read();
  }

  /**
   * Runs {@code attempt} on {@code n} virtual threads released together; counts refusals, samples a
   * level.
   */
  private List<String> runTogether(int n, Attempt attempt, Sample level) throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    ConcurrentLinkedQueue<String> ok = new ConcurrentLinkedQueue<>();
    AtomicBoolean done = new AtomicBoolean();
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<?> sampler =
          threads.submit(
              () -> {
                while (!done.get()) {
                  maxSeen.accumulateAndGet(level.read(), Math::max);
                }
                return null;
              });
      List<Future<?>> all = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int job = i;
        all.add(
            threads.submit(
                () -> {
                  start.await();
                  try {
                    ok.add(attempt.run(job));
                  } catch (UserError e) {
                    assertThat(e.code()).isEqualTo(UserError.Code.QUOTA_EXCEEDED);
                    refused.incrementAndGet();
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : all) {
        f.get();
      }
      done.set(true);
      sampler.get();
    }
    return List.copyOf(ok);
  }

  // ---------------------------------------------------------------------------------------------
  // The refusal and the windows

  @Test
  void refusalSaysWhatIsLeftWhatTheImageNeedsAndWhenTheDayResets() {
    QuotaService q = quotas();
    q.reserve(user("alice"), "j1", "pro", 47_000, false);
    q.commit("j1", 47_000);

    UserError e = refusal(() -> q.reserve(user("alice"), "j2", "pro", 7_000, false));

    assertThat(e.code()).isEqualTo(UserError.Code.QUOTA_EXCEEDED);
    assertThat(e.getMessage())
        .isEqualTo(
            "You have 3 of 50 credits left today; this image needs 7 (pro). Resets at 00:00 UTC (in 5 h 12 min).");
  }

  @Test
  void refusalNamesMondayForAWeeklyWindow() {
    clock.set(Instant.parse("2026-01-14T12:00:00Z"));
    QuotaService q = quotas();
    q.setRule(Subject.scope("discord", "guild1"), Period.WEEK, 100_000);
    q.reserve(user("alice"), "j1", "pro", 100_000, false);
    q.commit("j1", 100_000);

    assertThat(refusal(() -> q.reserve(user("alice"), "j2", "klein-4b", 1_500, false)).getMessage())
        .isEqualTo(
            "You have 0 of 100 credits left this week; this image needs 1.5 (klein-4b)."
                + " Resets Monday at 00:00 UTC (in 4 d 12 h).");
  }

  @Test
  void refusalNamesTheFirstOfTheMonthInTheConfiguredZone() {
    clock.set(Instant.parse("2026-01-14T12:00:00Z"));
    QuotaService q =
        quotas(new Settings(ZoneId.of("Europe/Berlin"), Period.MONTH, 20_000, 2, null));
    q.reserve(user("alice"), "j1", "max", 19_600, false);
    q.commit("j1", 19_600);

    assertThat(refusal(() -> q.reserve(user("alice"), "j2", "max", 1_400, false)).getMessage())
        .isEqualTo(
            "You have 0.4 of 20 credits left this month; this image needs 1.4 (max)."
                + " Resets on 1 February at 00:00 Europe/Berlin (in 17 d 11 h).");
  }

  @Test
  void aDayStartsAtMidnightInTheConfiguredZone() {
    clock.set(Instant.parse("2026-01-14T23:30:00Z")); // 00:30 on the 15th in Berlin
    QuotaService q = quotas(new Settings(ZoneId.of("Europe/Berlin"), Period.DAY, 1_000, 2, null));

    Status s = q.status(user("alice"));
    assertThat(s.windowStart()).isEqualTo(Instant.parse("2026-01-14T23:00:00Z"));
    assertThat(s.resetsAt()).isEqualTo(Instant.parse("2026-01-15T23:00:00Z"));
    q.reserve(user("alice"), "j1", "pro", 1_000, false);
    assertThat(refusal(() -> q.reserve(user("alice"), "j2", "pro", 1_000, false)).getMessage())
        .endsWith("Resets at 00:00 Europe/Berlin (in 23 h 30 min).");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "DAY,   2026-01-14T00:00:00Z, 2026-01-14T23:59:00Z, 2026-01-15T00:00:00Z",
    "WEEK,  2026-01-12T00:00:00Z, 2026-01-18T23:59:00Z, 2026-01-19T00:00:00Z",
    "MONTH, 2026-01-01T00:00:00Z, 2026-01-31T23:59:00Z, 2026-02-01T00:00:00Z"
  })
  void theWindowResetsWhenTheClockPassesMidnightMondayOrTheFirst(
      Period period, Instant firstInstant, Instant lastMinute, Instant nextWindow) {
    QuotaService q = quotas(new Settings(ZoneOffset.UTC, period, 10_000, 2, null));
    clock.set(firstInstant);
    q.reserve(user("alice"), "j1", "pro", 10_000, false);
    q.commit("j1", 10_000);

    clock.set(lastMinute);
    assertThat(refusal(() -> q.reserve(user("alice"), "j2", "pro", 1_000, false)).code())
        .isEqualTo(UserError.Code.QUOTA_EXCEEDED);
    assertThat(q.status(user("alice")).resetsAt()).isEqualTo(nextWindow);

    clock.advance(Duration.ofMinutes(1));
    q.reserve(user("alice"), "j2", "pro", 1_000, false);
    Status s = q.status(user("alice"));
    assertThat(s.windowStart()).isEqualTo(nextWindow);
    assertThat(s.spentMilli()).isZero();
    assertThat(s.leftMilli()).isEqualTo(9_000);
  }

  // ---------------------------------------------------------------------------------------------
  // Rules, grants, resets, bans

  @Test
  void theMostSpecificRuleWins() {
    QuotaService q = quotas();
    Requester alice = user("alice", "artists", "vip", "mods");
    assertThat(source(q, alice)).isEqualTo("default 50000 DAY");

    q.setRule(Subject.scope("*", "*"), Period.DAY, 5_000);
    assertThat(source(q, alice)).isEqualTo("scope 5000 DAY");
    q.setRule(Subject.scope("discord", "*"), Period.DAY, 10_000);
    assertThat(source(q, alice)).isEqualTo("scope 10000 DAY");
    q.setRule(Subject.scope("discord", "guild1"), Period.DAY, 20_000);
    assertThat(source(q, alice)).isEqualTo("scope 20000 DAY");

    q.setRule(Subject.role("discord", "*", "artists"), Period.WEEK, 25_000);
    assertThat(source(q, alice)).isEqualTo("role artists 25000 WEEK");
    q.setRule(Subject.role("discord", "guild1", "vip"), Period.DAY, 21_000);
    q.setRule(Subject.role("discord", "guild1", "mods"), Period.DAY, 22_000);
    assertThat(source(q, alice))
        .as("the largest role rule in the scope, before any in every scope")
        .isEqualTo("role mods 22000 DAY");
    assertThat(source(q, user("bob", "artists"))).isEqualTo("role artists 25000 WEEK");

    q.setRule(Subject.user("discord", "*", "alice"), Period.DAY, 3_000);
    assertThat(source(q, alice)).isEqualTo("user 3000 DAY");
    q.setRule(Subject.user("discord", "guild1", "alice"), Period.MONTH, 4_000);
    assertThat(source(q, alice)).isEqualTo("user 4000 MONTH");
    assertThat(refusal(() -> q.reserve(alice, "j1", "pro", 4_500, false)).getMessage())
        .startsWith("You have 4 of 4 credits left this month;");

    assertThat(source(q, in("guild2", "carol"))).isEqualTo("scope 10000 DAY");
    assertThat(source(q, new Requester("telegram", "dave", "dave", "-100", Set.of(), false)))
        .isEqualTo("scope 5000 DAY");

    q.removeRule(Subject.user("discord", "guild1", "alice"));
    assertThat(source(q, alice)).isEqualTo("user 3000 DAY");
    q.removeRule(Subject.user("discord", "*", "alice"));
    assertThat(source(q, alice)).isEqualTo("role mods 22000 DAY");
    q.setRule(Subject.role("discord", "guild1", "mods"), Period.WEEK, 500);
    assertThat(source(q, alice))
        .as("a rule set again replaces the old one")
        .isEqualTo("role vip 21000 DAY");
  }

  private static String source(QuotaService q, Requester who) {
    Status s = q.status(who);
    return s.source() + " " + s.limitMilli() + " " + s.period();
  }

  @Test
  void showGivesAnAdminTheSameViewAsTheUser() {
    QuotaService q = quotas();
    q.setRule(Subject.role("discord", "guild1", "vip"), Period.WEEK, 80_000);
    q.reserve(user("alice", "vip"), "j1", "pro", 7_000, false);

    Status shown = q.show("discord", "guild1", "alice", Set.of("vip"));
    assertThat(shown).isEqualTo(q.status(user("alice", "vip")));
    assertThat(shown)
        .isEqualTo(
            new Status(
                Period.WEEK,
                80_000,
                0,
                7_000,
                0,
                73_000,
                Instant.parse("2026-01-12T00:00:00Z"),
                Instant.parse("2026-01-19T00:00:00Z"),
                "role vip",
                false));
  }

  @Test
  void aGrantAddsCreditsForTheCurrentWindowOnly() {
    QuotaService q = quotas();
    q.reserve(user("alice"), "j1", "pro", 50_000, false);
    q.commit("j1", 50_000);

    q.grant("discord", "guild1", "alice", 10_000);
    Status s = q.status(user("alice"));
    assertThat(s.grantedMilli()).isEqualTo(10_000);
    assertThat(s.leftMilli()).isEqualTo(10_000);
    q.reserve(user("alice"), "j2", "pro", 10_000, false);
    assertThat(refusal(() -> q.reserve(user("alice"), "j3", "pro", 1_000, false)).getMessage())
        .startsWith("You have 0 of 60 credits left today;");

    clock.advance(Duration.ofHours(6));
    Status tomorrow = q.status(user("alice"));
    assertThat(tomorrow.grantedMilli()).isZero();
    assertThat(tomorrow.leftMilli()).isEqualTo(50_000);
  }

  @Test
  void aGrantReachesAUserWhoseRoleSetsAWeeklyWindow() {
    QuotaService q = quotas();
    q.setRule(Subject.role("discord", "guild1", "vip"), Period.WEEK, 20_000);

    q.grant("discord", "guild1", "alice", 5_000);

    Status s = q.status(user("alice", "vip"));
    assertThat(s.period()).isEqualTo(Period.WEEK);
    assertThat(s.grantedMilli()).isEqualTo(5_000);
    assertThat(s.leftMilli()).isEqualTo(25_000);
    assertThat(q.status(user("alice")).grantedMilli()).isEqualTo(5_000);
  }

  @Test
  void resetClearsSpentAndGrantedButKeepsWhatRunningJobsHold() {
    QuotaService q = quotas();
    q.reserve(user("alice"), "j1", "pro", 30_000, false);
    q.commit("j1", 30_000);
    q.reserve(user("alice"), "j2", "pro", 10_000, false);
    q.grant("discord", "guild1", "alice", 5_000);

    q.reset("discord", "guild1", "alice");

    Status s = q.status(user("alice"));
    assertThat(s.spentMilli()).isZero();
    assertThat(s.grantedMilli()).isZero();
    assertThat(s.reservedMilli()).isEqualTo(10_000);
    assertThat(s.leftMilli()).isEqualTo(40_000);
    q.commit("j2", 10_000);
    assertThat(q.status(user("alice")).spentMilli()).isEqualTo(10_000);
  }

  @Test
  void aBannedUserIsRefusedInThatScopeUntilUnbanned() {
    QuotaService q = quotas();
    q.ban("discord", "guild1", "alice", "spam");

    UserError e = refusal(() -> q.reserve(user("alice"), "j1", "pro", 1_000, false));
    assertThat(e.code()).isEqualTo(UserError.Code.BANNED);
    assertThat(e.getMessage())
        .isEqualTo(
            "You are banned from making images here (reason: spam). Ask an admin if you think this is a mistake.");
    assertThat(refusal(() -> q.reserve(user("alice"), "j1", "pro", 0, false)).code())
        .as("a free cache hit still respects bans")
        .isEqualTo(UserError.Code.BANNED);
    assertThat(q.isBanned(user("alice"))).isTrue();
    assertThat(q.status(user("alice")).banned()).isTrue();
    assertThat(q.isBanned(in("guild2", "alice"))).isFalse();
    q.reserve(in("guild2", "alice"), "j2", "pro", 1_000, false);

    q.unban("discord", "guild1", "alice");
    assertThat(q.isBanned(user("alice"))).isFalse();
    assertThat(q.reserve(user("alice"), "j3", "pro", 1_000, false)).hasSize(1);
  }

  @Test
  void aBanInEveryScopeAppliesEverywhereOnThePlatform() {
    QuotaService q = quotas();
    q.ban("discord", "*", "alice", null);

    assertThat(q.isBanned(user("alice"))).isTrue();
    assertThat(q.isBanned(in("guild2", "alice"))).isTrue();
    assertThat(q.isBanned(in(null, "alice"))).isTrue();
    assertThat(q.isBanned(new Requester("telegram", "alice", "alice", null, Set.of(), false)))
        .isFalse();
    assertThat(
            refusal(() -> q.reserve(in("guild2", "alice"), "j1", "pro", 1_000, false)).getMessage())
        .isEqualTo(
            "You are banned from making images with this bot. Ask an admin if you think this is a mistake.");

    q.unban("discord", "guild1", "alice");
    assertThat(q.isBanned(user("alice")))
        .as("unbanning one scope leaves the ban in every scope")
        .isTrue();
    q.unban("discord", null, "alice");
    assertThat(q.isBanned(user("alice"))).isFalse();
  }

  @Test
  void aFreeCacheHitHoldsNothingEvenWithNoCreditsLeft() {
    QuotaService q = quotas(withCap(1, 1_000L));
    q.reserve(user("alice"), "j1", "pro", 50_000, false);

    assertThat(q.reserve(user("alice"), "j2", "pro", 0, true)).isEmpty();
    assertThat(q.held()).extracting(Reservation::jobId).containsExactly("j1");
  }

  // ---------------------------------------------------------------------------------------------
  // Concurrency cap, settling, restarts

  @Test
  void theConcurrencyCapRefusesAThirdImageUntilOneFinishes() {
    QuotaService q = quotas();
    q.reserve(user("alice"), "j1", "pro", 1_000, false);
    q.reserve(user("alice"), "j2", "pro", 1_000, false);

    UserError e = refusal(() -> q.reserve(user("alice"), "j3", "pro", 1_000, false));
    assertThat(e.code()).isEqualTo(UserError.Code.QUOTA_EXCEEDED);
    assertThat(e.getMessage())
        .isEqualTo(
            "You have 2 images in progress; the limit is 2 at a time. Wait for one to finish.");
    q.reserve(user("bob"), "j4", "pro", 1_000, false);

    q.commit("j1", 1_000);
    assertThat(q.reserve(user("alice"), "j3", "pro", 1_000, false)).hasSize(1);
  }

  @Test
  void theConcurrencyCapOfOneSaysSoInTheSingular() {
    QuotaService q = quotas(withCap(1, null));
    q.reserve(user("alice"), "j1", "pro", 1_000, false);

    assertThat(refusal(() -> q.reserve(user("alice"), "j2", "pro", 1_000, false)).getMessage())
        .isEqualTo(
            "You have 1 image in progress; the limit is 1 at a time. Wait for it to finish.");
  }

  @Test
  void commitChargesTheActualCostNotTheEstimate() {
    QuotaService q = quotas();
    List<Reservation> held = q.reserve(user("alice"), "j1", "pro", 7_000, false);
    assertThat(held)
        .containsExactly(
            new Reservation(
                "j1",
                "user:discord:guild1:alice",
                Instant.parse("2026-01-14T00:00:00Z").toEpochMilli(),
                7_000,
                "pro"));
    q.commit("j1", 4_500);
    q.reserve(user("alice"), "j2", "pro", 2_000, false);
    q.commit("j2", 3_000);

    Status s = q.status(user("alice"));
    assertThat(s.spentMilli()).isEqualTo(7_500);
    assertThat(s.reservedMilli()).isZero();
    assertThat(s.leftMilli()).isEqualTo(42_500);
  }

  @Test
  void refundReleasesTheHoldInFull() {
    QuotaService q = quotas();
    q.reserve(user("alice"), "j1", "pro", 7_000, false);
    assertThat(q.status(user("alice")).leftMilli()).isEqualTo(43_000);

    q.refund("j1");

    Status s = q.status(user("alice"));
    assertThat(s.reservedMilli()).isZero();
    assertThat(s.spentMilli()).isZero();
    assertThat(s.leftMilli()).isEqualTo(50_000);
    assertThat(q.held()).isEmpty();
  }

  @Test
  void settlingTwiceOrSettlingAnUnknownJobChangesNothing() {
    QuotaService q = quotas();
    q.reserve(user("alice"), "j1", "pro", 7_000, false);
    q.reserve(user("alice"), "j2", "pro", 5_000, false);

    q.commit("j1", 7_000);
    q.commit("j1", 7_000);
    q.refund("j1");
    q.refund("j2");
    q.refund("j2");
    q.commit("j2", 5_000);
    q.commit("nobody", 1_000);
    q.refund("nobody");

    Status s = q.status(user("alice"));
    assertThat(s.spentMilli()).isEqualTo(7_000);
    assertThat(s.reservedMilli()).isZero();
  }

  @Test
  void reservingAgainForAJobThatHoldsReturnsTheSameHold() {
    QuotaService q = quotas();
    List<Reservation> first = q.reserve(user("alice"), "j1", "pro", 7_000, true);

    assertThat(q.reserve(user("alice"), "j1", "pro", 7_000, true)).isEqualTo(first);
    assertThat(q.status(user("alice")).reservedMilli()).isEqualTo(7_000);
    q.commit("j1", 7_000);
    assertThatThrownBy(() -> q.reserve(user("alice"), "j1", "pro", 7_000, true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("job j1 was already settled; a job id reserves once");
  }

  @Test
  void holdsSurviveARestartAndAreSettledAfterIt() {
    QuotaService before = quotas();
    before.reserve(user("alice"), "j1", "pro", 7_000, true);
    before.reserve(user("alice"), "j2", "klein-4b", 1_000, false);

    QuotaService after = restart(Settings.defaults());

    long today = Instant.parse("2026-01-14T00:00:00Z").toEpochMilli();
    long january = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
    assertThat(after.held())
        .containsExactlyInAnyOrder(
            new Reservation("j1", "user:discord:guild1:alice", today, 7_000, "pro"),
            new Reservation("j1", "bfl:spend", january, 7_000, "pro"),
            new Reservation("j2", "user:discord:guild1:alice", today, 1_000, "klein-4b"));
    assertThat(after.status(user("alice")).reservedMilli()).isEqualTo(8_000);

    clock.advance(
        Duration.ofDays(1)); // settled tomorrow: the holds go back to the window they came from
    after.commit("j1", 6_000);
    after.refund("j2");

    assertThat(after.held()).isEmpty();
    clock.set(WEDNESDAY_EVENING);
    Status s = after.status(user("alice"));
    assertThat(s.spentMilli()).isEqualTo(6_000);
    assertThat(s.reservedMilli()).isZero();
  }

  // ---------------------------------------------------------------------------------------------
  // The installation's BFL budget and the usage report

  @Test
  void theMonthlyBflBudgetRefusesEveryoneOnceUsedUp() {
    QuotaService q = quotas(new Settings(ZoneOffset.UTC, Period.DAY, 1_000_000, 5, 100_000L)); // $1
    List<Reservation> alice = q.reserve(user("alice"), "j1", "pro", 60_000, true);
    assertThat(alice)
        .extracting(Reservation::account)
        .containsExactly("user:discord:guild1:alice", "bfl:spend");
    q.reserve(user("bob"), "j2", "pro", 40_000, true);

    UserError e = refusal(() -> q.reserve(user("carol"), "j3", "pro", 1_000, true));
    assertThat(e.code()).isEqualTo(UserError.Code.QUOTA_EXCEEDED);
    assertThat(e.getMessage())
        .isEqualTo("This bot's monthly BFL budget ($1) is used up until 1 February; ask an admin.");
    assertThat(q.status(user("carol")).reservedMilli()).as("a refused job holds nothing").isZero();
    q.reserve(user("carol"), "j4", "klein-4b", 1_000, false);

    q.commit("j1", 50_000);
    q.reserve(user("carol"), "j5", "pro", 10_000, true);
    assertThat(refusal(() -> q.reserve(user("carol"), "j6", "pro", 1_000, true)).code())
        .isEqualTo(UserError.Code.QUOTA_EXCEEDED);

    clock.set(Instant.parse("2026-02-01T00:00:00Z"));
    assertThat(q.reserve(user("carol"), "j6", "pro", 1_000, true)).hasSize(2);
  }

  @Test
  void usageReportsCommittedJobsAndCreditsPerUserAndModel() {
    QuotaService q = quotas(withCap(10, null));
    Instant from = clock.instant();
    commitJob(q, user("alice"), "j1", "pro", 7_000);
    commitJob(q, user("alice"), "j2", "pro", 3_000);
    commitJob(q, user("alice"), "j3", "klein-4b", 1_000);
    commitJob(q, user("bob"), "j4", "pro", 5_000);
    commitJob(q, in(null, "bob"), "j5", "max", 2_000);
    q.reserve(user("bob"), "j6", "pro", 5_000, true);
    q.refund("j6");
    q.reserve(user("alice"), "j7", "pro", 5_000, false);
    Instant to = clock.advance(Duration.ofMinutes(1));
    commitJob(q, user("alice"), "j8", "pro", 9_000);

    assertThat(q.usage(from, to))
        .containsExactly(
            new UsageRow("discord", "*", "bob", "max", 1, 2_000),
            new UsageRow("discord", "guild1", "alice", "klein-4b", 1, 1_000),
            new UsageRow("discord", "guild1", "alice", "pro", 2, 10_000),
            new UsageRow("discord", "guild1", "bob", "pro", 1, 5_000));
    assertThat(q.usage(to, to.plusSeconds(60)))
        .containsExactly(new UsageRow("discord", "guild1", "alice", "pro", 1, 9_000));
  }

  private static void commitJob(
      QuotaService q, Requester who, String job, String model, long credits) {
    q.reserve(who, job, model, credits, true);
    q.commit(job, credits);
  }
}
