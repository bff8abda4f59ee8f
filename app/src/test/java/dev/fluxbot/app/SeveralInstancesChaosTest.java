package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.DiscordContext;
import dev.fluxbot.testkit.DiscordGuild;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordMember;
import dev.fluxbot.testkit.DiscordMessage;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeDiscord;
import dev.fluxbot.testkit.PostgresServer;
import dev.fluxbot.testkit.S3Server;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeDiscordExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@code fluxbot run} processes on one PostgreSQL, one shard of a fake Discord each, one fake
 * BFL key with a low active-task limit; 60 jobs from 10 users, one instance killed with SIGKILL
 * mid-run and started again. No job is run, charged or delivered twice, no cap is passed at any
 * moment, and the seed cache answers across instances.
 */
class SeveralInstancesChaosTest {
  private static final String BFL_KEY = "sk-chaos";
  private static final int SHARDS = 3;
  private static final int USERS = 10;
  private static final int JOBS_PER_USER = 6;
  private static final int PER_USER = 2;
  private static final int ACTIVE_TASKS = 6;
  private static final String OWNER = "900000000000000001";
  private static final Duration WAIT = Duration.ofSeconds(90);

  private static final List<String> GUILDS = new ArrayList<>();
  private static final List<String> CHANNELS = new ArrayList<>();

  static {
    for (int shard = 0; shard < SHARDS; shard++) {
      long timestamp = 300_000_000_000L / SHARDS * SHARDS + shard;
      GUILDS.add(Long.toString(timestamp << 22 | 5));
      CHANNELS.add(Long.toString(timestamp << 22 | 7));
    }
  }

  @RegisterExtension
  final FakeBflApiExtension bflFake =
      new FakeBflApiExtension(b -> b.key(BFL_KEY).activeTaskLimit(ACTIVE_TASKS));

  @RegisterExtension
  final FakeDiscordExtension discordFake =
      new FakeDiscordExtension(
          b -> {
            for (int shard = 0; shard < SHARDS; shard++) {
              DiscordGuild guild =
                  DiscordGuild.of(GUILDS.get(shard), "Guild " + shard, OWNER)
                      .withMember(DiscordMember.of(OWNER, "owner"))
                      .withTextChannel(CHANNELS.get(shard));
              for (int u = 0; u < USERS; u++) {
                guild = guild.withMember(DiscordMember.of(user(u), "user" + u));
              }
              b.guild(guild);
            }
            return b.recommendedShards(SHARDS).maxConcurrency(SHARDS).awaitTimeout(WAIT);
          });

  private final FakeBflApi bfl = bflFake.get();
  private final FakeDiscord discord = discordFake.get();
  private final List<RunningApp> apps = new ArrayList<>(List.of());
  private final Map<Integer, RunningApp> byShard = new HashMap<>();
  private String databaseUrl;
  private final S3Server s3 = S3Server.shared();
  private final String bucket = s3.newBucket();

  @TempDir Path dir;

  private static String user(int u) {
    return Long.toString(800_000_000_000_000_000L + u);
  }

  @AfterEach
  void stop() throws Exception {
    for (RunningApp app : apps) {
      app.stop();
    }
  }

  private ProcessBuilder fluxbot(int shard, String... args) throws Exception {
    Path home = Files.createDirectories(dir.resolve("instance-" + shard));
    Files.writeString(
        home.resolve("fluxbot.yaml"),
        "bfl:\n  max_active_tasks: "
            + ACTIVE_TASKS
            + "\nscheduler:\n  per_user: "
            + PER_USER
            + "\nquotas:\n  max_concurrent_jobs: "
            + JOBS_PER_USER
            + "\ninstance:\n  lease_seconds: 5\n");
    Map<String, String> env = new LinkedHashMap<>();
    env.put("BFL_API_KEY", BFL_KEY);
    env.put("FLUXBOT_BFL_BASE_URL", bfl.baseUrl());
    env.put("FLUXBOT_DISCORD_TOKEN", discord.token());
    env.put("FLUXBOT_DISCORD_REST_URL", discord.restBaseUrl());
    env.put("FLUXBOT_DISCORD_GATEWAY_URL", discord.gatewayUrl());
    env.put("FLUXBOT_DISCORD_SHARDS_TOTAL", Integer.toString(SHARDS));
    env.put("FLUXBOT_DISCORD_SHARD_IDS", Integer.toString(shard));
    env.put("FLUXBOT_DATABASE_URL", databaseUrl);
    env.put("FLUXBOT_INSTANCE_ID", "bot-" + shard);
    env.put("FLUXBOT_IMAGES_URL", "s3://" + bucket + "/images");
    env.put("FLUXBOT_S3_ENDPOINT", s3.endpoint().toString());
    env.put("AWS_ACCESS_KEY_ID", S3Server.ACCESS_KEY);
    env.put("AWS_SECRET_ACCESS_KEY", S3Server.SECRET_KEY);
    env.put("AWS_REGION", S3Server.REGION);
    return FluxbotProcess.builder(home, env, args);
  }

  private RunningApp start(int shard) throws Exception {
    Path home = dir.resolve("instance-" + shard);
    RunningApp app =
        RunningApp.start(
            fluxbot(shard, "run", "--grace", "5"),
            Files.createDirectories(home),
            () -> RunningApp.read(home.resolve("app.log")).contains("fluxbot: running ("));
    apps.add(app);
    byShard.put(shard, app);
    return app;
  }

  @Test
  void threeInstancesOneKilledMidRunLoseRepeatAndDoubleBillNothing() throws Exception {
    try {
      run();
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + diagnostics(), e);
    }
  }

  private void run() throws Exception {
    if (!PostgresServer.isRequired()) {
      Assumptions.assumeTrue(PostgresServer.isAvailable(), "PostgreSQL binaries not installed");
    }
    databaseUrl = PostgresServer.newDatabaseUrl();
    for (int shard = 0; shard < SHARDS; shard++) {
      start(shard);
    }
    Caps caps = new Caps(databaseUrl);
    Thread sampler = Thread.ofPlatform().daemon().start(caps);
    long began = System.nanoTime();

    // the seed cache across instances: one image made on shard 0, asked again on shard 2
    DiscordInteraction first = imagine(0, 0, "a lighthouse at dusk --seed 4242");
    assertThat(imageOf(first).content()).doesNotContain("cached");

    // every fifth job is slow at BFL (a few seconds of Pending)
    for (int i = 0; i < USERS * JOBS_PER_USER; i++) {
      bfl.enqueue(
          i % 5 == 0
              ? Scenario.statuses("Pending", "Pending", "Pending", "Ready")
              : Scenario.ready());
    }
    List<DiscordInteraction> asked = new ArrayList<>();
    for (int round = 0; round < JOBS_PER_USER; round++) {
      for (int u = 0; u < USERS; u++) {
        asked.add(
            imagine(
                u % SHARDS,
                u,
                "a fox number " + (round * USERS + u) + " --seed " + (1000 + round * USERS + u)));
      }
    }
    DiscordInteraction repeat = imagine(2, 3, "a lighthouse at dusk --seed 4242");

    // kill the instance of shard 1 while jobs run, and start it again
    Await.until("15 images delivered", WAIT, () -> delivered(asked) >= 15);
    List<String> orphaned = jobsOwnedBy("bot-1");
    long killedAt = System.nanoTime();
    byShard.get(1).kill();
    Thread.sleep(1_000);
    start(1);

    for (DiscordInteraction i : asked) {
      imageOf(i);
    }
    long takenOver = orphaned.isEmpty() ? 0 : awaitDelivered(orphaned) - killedAt;
    DiscordMessage cached = imageOf(repeat);
    caps.stop.set(true);
    sampler.join(5_000);

    Map<String, Long> submits =
        bfl.submits().stream()
            .collect(
                Collectors.groupingBy(
                    s -> s.body().path("prompt").asText() + "#" + s.body().path("seed").asText(),
                    Collectors.counting()));
    long again = submits.values().stream().filter(n -> n > 1).mapToLong(n -> n - 1).sum();
    Report report = report();
    System.out.printf(
        "chaos: %d jobs, %d BFL submits (%d again, the crash window), %d deliveries, %d charges,"
            + " %d job(s) of the killed instance taken over and delivered %d ms after the kill,"
            + " max running per user %d, max running on bfl %d, max active at BFL %d, %d s in all%n",
        report.jobs,
        bfl.submits().size(),
        again,
        deliveries(asked) + deliveries(List.of(first, repeat)),
        report.charges,
        orphaned.size(),
        takenOver / 1_000_000,
        caps.maxPerUser.get(),
        caps.maxOnBfl.get(),
        bfl.maxConcurrentActiveTasks(),
        (System.nanoTime() - began) / 1_000_000_000);

    assertThat(cached.content())
        .as("answered from the cache another instance filled")
        .contains("cached");
    for (String hash : imageHashes()) {
      assertThat(
              s3.client().headObject(r -> r.bucket(bucket).key("images/" + hash)).contentLength())
          .as("image " + hash + " is in the shared store")
          .isPositive();
    }
    String madeOnOne = jobMadeBy("bot-1");
    Process show =
        fluxbot(0, "jobs", "show", madeOnOne, "-o", "from-another.png")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("show.log").toFile())
            .start();
    assertThat(show.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(show.exitValue()).as(Files.readString(dir.resolve("show.log"))).isZero();
    assertThat(dir.resolve("instance-0/from-another.png"))
        .as("another instance's image, read here")
        .isNotEmptyFile();
    assertThat(report.jobs).isEqualTo(USERS * JOBS_PER_USER + 2);
    assertThat(report.succeeded).isEqualTo(report.jobs);
    // posted again only in the delivery's crash window (docs/scale-out.md, "The windows that
    // remain"): the killed instance posted an answer and died before it recorded that
    int postedAgain = 0;
    for (DiscordInteraction i : asked) {
      int n = deliveries(List.of(i));
      assertThat(n)
          .as("delivered once (twice only in the crash window): " + i.id())
          .isBetween(1, 2);
      postedAgain += n - 1;
    }
    assertThat(postedAgain)
        .as("posted again only for jobs the killed instance held")
        .isLessThanOrEqualTo(orphaned.size());
    assertThat(deliveries(List.of(first, repeat))).isEqualTo(2);
    assertThat(again)
        .as("submitted again only in the crash window")
        .isLessThanOrEqualTo(orphaned.size());
    assertThat(report.cached).as("the one repeat, answered free from the cache").isEqualTo(1);
    assertThat(report.charges)
        .as("one charge per job that ran (a cache answer is free)")
        .isEqualTo(report.jobs - report.cached);
    assertThat(report.held).as("no credits left held").isZero();
    assertThat(report.spentMatchesJobs)
        .as("every user charged exactly what their jobs cost")
        .isTrue();
    assertThat(caps.maxPerUser.get())
        .as("the per-user cap, at every moment")
        .isLessThanOrEqualTo(PER_USER);
    assertThat(caps.maxOnBfl.get())
        .as("the key's cap, at every moment")
        .isLessThanOrEqualTo(ACTIVE_TASKS);
    assertThat(bfl.maxConcurrentActiveTasks()).isLessThanOrEqualTo(ACTIVE_TASKS);
    assertThat(takenOver).as("taken over within 90 s").isLessThan(Duration.ofSeconds(90).toNanos());
  }

  private DiscordInteraction imagine(int shard, int u, String prompt) {
    return discord.slashCommand(
        DiscordContext.guild(GUILDS.get(shard), CHANNELS.get(shard), user(u)),
        "imagine",
        Map.of("prompt", prompt));
  }

  private DiscordMessage imageOf(DiscordInteraction i) {
    try {
      return discord.awaitOriginalEdit(i.token(), m -> !m.files().isEmpty());
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + diagnostics(), e);
    }
  }

  /** The undelivered jobs and each instance's last log lines, for a failure's message. */
  private String diagnostics() {
    StringBuilder logs = new StringBuilder();
    try (Connection c = DriverManager.getConnection(databaseUrl);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT id, state, owner, lease_until, delivered_at, error_message, command_text FROM jobs"
                    + " WHERE delivered_at IS NULL ORDER BY id")) {
      while (rs.next()) {
        logs.append("\nundelivered: ");
        for (int k = 1; k <= 7; k++) {
          logs.append(rs.getString(k)).append(' ');
        }
      }
    } catch (SQLException q) {
      logs.append("\n(no job rows: ").append(q.getMessage()).append(')');
    }
    for (int shard = 0; shard < SHARDS; shard++) {
      String log = RunningApp.read(dir.resolve("instance-" + shard).resolve("app.log"));
      logs.append("\n--- instance ").append(shard).append(" ---\n");
      logs.append(
          log.lines()
              .filter(l -> !l.contains(" DEBUG "))
              .skip(Math.max(0, log.lines().count() - 60))
              .collect(Collectors.joining("\n")));
    }
    return logs.toString();
  }

  private int deliveries(List<DiscordInteraction> asked) {
    int n = 0;
    for (DiscordInteraction i : asked) {
      for (DiscordMessage m : discord.messages()) {
        if (i.token().equals(m.token()) && !m.files().isEmpty()) {
          n++;
        }
      }
    }
    return n;
  }

  private int delivered(List<DiscordInteraction> asked) {
    int n = 0;
    for (DiscordInteraction i : asked) {
      if (discord.messages().stream()
          .anyMatch(m -> i.token().equals(m.token()) && !m.files().isEmpty())) {
        n++;
      }
    }
    return n;
  }

  private List<String> jobsOwnedBy(String owner) throws SQLException {
    List<String> ids = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(databaseUrl);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT id FROM jobs WHERE owner = '" + owner + "' AND lease_until IS NOT NULL")) {
      while (rs.next()) {
        ids.add(rs.getString(1));
      }
    }
    return ids;
  }

  /** Waits until every job in {@code ids} is delivered; returns when (nanoTime). */
  private long awaitDelivered(List<String> ids) throws SQLException {
    String in = ids.stream().map(id -> "'" + id + "'").collect(Collectors.joining(","));
    Await.until(
        "the killed instance's jobs delivered",
        WAIT,
        () -> {
          try (Connection c = DriverManager.getConnection(databaseUrl);
              Statement st = c.createStatement();
              ResultSet rs =
                  st.executeQuery(
                      "SELECT count(*) FROM jobs WHERE id IN ("
                          + in
                          + ") AND delivered_at IS NOT NULL")) {
            rs.next();
            return rs.getInt(1) == ids.size();
          } catch (SQLException e) {
            return false;
          }
        });
    return System.nanoTime();
  }

  private List<String> imageHashes() throws SQLException {
    List<String> hashes = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(databaseUrl);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT DISTINCT image_hash FROM jobs WHERE image_hash IS NOT NULL")) {
      while (rs.next()) {
        hashes.add(rs.getString(1));
      }
    }
    return hashes;
  }

  private String jobMadeBy(String owner) throws SQLException {
    try (Connection c = DriverManager.getConnection(databaseUrl);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT id FROM jobs WHERE owner = '"
                    + owner
                    + "' AND state = 'SUCCEEDED' AND cached = 0 ORDER BY id LIMIT 1")) {
      assertThat(rs.next()).as("a job made by " + owner).isTrue();
      return rs.getString(1);
    }
  }

  private record Report(
      long jobs, long succeeded, long cached, long charges, long held, boolean spentMatchesJobs) {}

  private Report report() throws SQLException {
    try (Connection c = DriverManager.getConnection(databaseUrl);
        Statement st = c.createStatement()) {
      long jobs = one(st, "SELECT count(*) FROM jobs");
      long succeeded = one(st, "SELECT count(*) FROM jobs WHERE state = 'SUCCEEDED'");
      long cached = one(st, "SELECT count(*) FROM jobs WHERE cached = 1");
      long charges =
          one(
              st,
              "SELECT count(*) FROM quota_reservations WHERE state = 'COMMITTED' AND account LIKE 'user:%'");
      long held = one(st, "SELECT count(*) FROM quota_reservations WHERE state = 'HELD'");
      long mismatched =
          one(
              st,
              "SELECT count(*) FROM (SELECT r.account, sum(r.settled_milli) AS charged FROM quota_reservations r"
                  + " WHERE r.state = 'COMMITTED' AND r.account LIKE 'user:%' GROUP BY r.account) x"
                  + " JOIN (SELECT account, sum(spent_milli) AS spent FROM quota_usage GROUP BY account) u"
                  + " ON u.account = x.account WHERE u.spent <> x.charged");
      return new Report(jobs, succeeded, cached, charges, held, mismatched == 0);
    }
  }

  private static long one(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Samples the running jobs in the database every few milliseconds; keeps the maxima. */
  private static final class Caps implements Runnable {
    final AtomicInteger maxPerUser = new AtomicInteger();
    final AtomicInteger maxOnBfl = new AtomicInteger();
    final AtomicBoolean stop = new AtomicBoolean();
    private final String url;

    Caps(String url) {
      this.url = url;
    }

    @Override
    public void run() {
      try (Connection c = DriverManager.getConnection(url);
          Statement st = c.createStatement()) {
        while (!stop.get()) {
          maxPerUser.accumulateAndGet(
              (int)
                  one(
                      st,
                      "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM jobs WHERE state = 'RUNNING'"
                          + " GROUP BY platform, user_id) x"),
              Math::max);
          maxOnBfl.accumulateAndGet(
              (int)
                  one(st, "SELECT count(*) FROM jobs WHERE state = 'RUNNING' AND backend = 'bfl'"),
              Math::max);
          Thread.sleep(10);
        }
      } catch (SQLException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
