package dev.fluxbot.core.store;

import dev.fluxbot.core.Requester;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Who runs which job when several instances share one database: each job row names its owner and a
 * lease ({@code owner}, {@code lease_until}), renewed by the owner's {@link #heartbeat}. An
 * instance takes a job over only once its lease has run out ({@link #takeOver}, which locks the
 * rows it takes with {@code FOR UPDATE SKIP LOCKED} on PostgreSQL), and starts a job only when the
 * whole installation has room for it ({@link #start}).
 *
 * <p><b>Caps for the installation.</b> {@link #start} counts the running jobs of the user and of
 * the backend in the database, under one lock for the whole installation (a PostgreSQL advisory
 * transaction lock; SQLite's single writer), so no cap is passed even for a moment, whichever
 * instance starts a job. A job that finds no room is marked waiting ({@code wait_since}); when room
 * frees, the waiting job of the user with the fewest running jobs goes first (ties: the one that
 * waited longest), whichever instance it is on: fairness decided from the database, not from one
 * process's queue.
 */
public final class JobLeases {
  /** The advisory lock every job start takes on PostgreSQL ("fluxjobs" as a number). */
  static final long START_LOCK = 0x666c75786a6f6273L;

  /** What {@link #start} found. */
  public enum Start {
    /** The job runs now and counts against the caps. */
    STARTED,
    /** No room: the job is marked waiting; try again later. */
    WAIT,
    /** The job has ended (a cancel) or is another instance's now: leave it alone. */
    GONE
  }

  private final JobStore jobs;
  private final Database db;
  private final InstantSource clock;
  private final Owner owner;

  public JobLeases(JobStore jobs, Database db, InstantSource clock) {
    this.jobs = Objects.requireNonNull(jobs, "jobs");
    this.db = Objects.requireNonNull(db, "db");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.owner = jobs.owner();
  }

  public Owner owner() {
    return owner;
  }

  /**
   * Starts a queued job of this instance if the installation has room: its user runs fewer than
   * {@code perUserCap} jobs, its backend fewer than {@code backendCap} (null: no cap), and no
   * waiting job comes before it. Inside a transaction of this database it joins that transaction
   * (the job's row may have been created in it).
   *
   * @param waitsHere whether the caller, finding no room, waits for it by calling again: only then
   *     is the job marked waiting, so a job that goes back to its instance's own queue instead
   *     never holds others back
   */
  public Start start(
      String id,
      String backend,
      Requester who,
      int perUserCap,
      Integer backendCap,
      boolean waitsHere) {
    return db.transaction(
        c -> {
          lockStarts(c);
          List<Object[]> rows =
              rows(c, "SELECT state, owner, wait_since FROM jobs WHERE id = ?", id);
          if (rows.isEmpty() || !owner.id().equals(rows.get(0)[1])) {
            return Start.GONE;
          }
          String state = (String) rows.get(0)[0];
          if (state.equals("RUNNING")) {
            return Start.STARTED; // taken over while running: it counts already
          }
          if (!state.equals("QUEUED")) {
            return Start.GONE;
          }
          Long waitSince = rows.get(0)[2] == null ? null : ((Number) rows.get(0)[2]).longValue();
          long now = clock.millis();
          // a group's images (--n) run together: its running mates do not count against it
          long mine = userRunning(c, who.platform(), who.userId()) - JobGroups.runningMates(c, id);
          boolean room =
              mine < perUserCap
                  && (backendCap == null
                      || count(
                              c,
                              "SELECT count(*) FROM jobs WHERE state = 'RUNNING' AND backend = ?",
                              backend)
                          < backendCap)
                  && !someoneComesFirst(
                      c, id, backend, mine, waitSince == null ? now : waitSince, perUserCap);
          if (!room) {
            if (waitSince == null && waitsHere) {
              jobs.update(
                  "UPDATE jobs SET wait_since = ?, backend = ? WHERE id = ?", now, backend, id);
            }
            return Start.WAIT;
          }
          jobs.update(
              "UPDATE jobs SET state = 'RUNNING', backend = ?, started_at = ?, lease_until = ?, wait_since = NULL"
                  + " WHERE id = ?",
              backend,
              now,
              jobs.leaseEnd(),
              id);
          return Start.STARTED;
        });
  }

  /**
   * Whether another instance's or user's waiting job on {@code backend} should start before this
   * one: its user runs fewer jobs, or as many and it has waited longer (or as long, and is older).
   * Waiters whose user is at the per-user cap, or whose lease ran out, do not count.
   */
  private boolean someoneComesFirst(
      java.sql.Connection c, String id, String backend, long mine, long since, int perUserCap)
      throws SQLException {
    List<Object[]> waiters =
        rows(
            c,
            "SELECT platform, user_id, wait_since, id FROM jobs WHERE state = 'QUEUED' AND wait_since IS NOT NULL"
                + " AND backend = ? AND lease_until >= ? AND id <> ?",
            backend,
            clock.millis(),
            id);
    Map<String, Long> running = new HashMap<>();
    for (Object[] w : waiters) {
      String platform = (String) w[0];
      String user = (String) w[1];
      long theirs =
          running.computeIfAbsent(platform + ":" + user, k -> countUnchecked(c, platform, user));
      long waited = ((Number) w[2]).longValue();
      boolean longer = waited < since || (waited == since && ((String) w[3]).compareTo(id) < 0);
      if (theirs < perUserCap && (theirs < mine || (theirs == mine && longer))) {
        return true;
      }
    }
    return false;
  }

  private long countUnchecked(java.sql.Connection c, String platform, String user) {
    try {
      return userRunning(c, platform, user);
    } catch (SQLException e) {
      throw new Database.StoreException("counting running jobs: " + e.getMessage(), e);
    }
  }

  private long userRunning(java.sql.Connection c, String platform, String user)
      throws SQLException {
    // By the state index (few jobs run at once), never by jobs_by_user, which SQLite would pick for
    // "platform = ? AND user_id = ?" and which holds every job the user ever made: the key as one
    // expression keeps that index out
    return count(
        c,
        "SELECT count(*) FROM jobs WHERE state = 'RUNNING' AND platform || ':' || user_id = ?",
        platform + ":" + user);
  }

  /**
   * Takes over the jobs that need an owner and have none that is alive: unfinished, or finished and
   * undelivered, with their lease run out. Each is this instance's afterwards, under a fresh lease;
   * on PostgreSQL the rows are locked as they are read ({@code FOR UPDATE SKIP LOCKED}), so two
   * instances never take the same job.
   *
   * @param which the jobs this instance can serve (its chat platforms)
   * @param ownToo whether jobs already named this instance's are taken too: at start, for what this
   *     instance's previous run left (read before the instance makes any job of its own)
   * @param only the job ids to consider, or null for all
   * @return the jobs taken, oldest first
   */
  public List<JobStore.Job> takeOver(
      Predicate<JobStore.Job> which, boolean ownToo, Set<String> only) {
    long now = clock.millis();
    String lock = db.dialect() == Database.Dialect.POSTGRESQL ? " FOR UPDATE SKIP LOCKED" : "";
    return db.transaction(
        c -> {
          List<JobStore.Job> taken = new ArrayList<>();
          for (JobStore.Job job :
              jobs.query(
                  "SELECT * FROM jobs WHERE " + TAKEABLE + " ORDER BY id LIMIT 200" + lock,
                  takeableArgs(now, ownToo))) {
            if ((only == null || only.contains(job.id())) && which.test(job)) {
              jobs.update(
                  // not waiting any more: it joins this instance's own queue first
                  "UPDATE jobs SET owner = ?, lease_until = ?, wait_since = NULL WHERE id = ?",
                  owner.id(),
                  jobs.leaseEnd(),
                  job.id());
              taken.add(job);
            }
          }
          return taken;
        });
  }

  /**
   * The ids of the jobs {@link #takeOver} would consider now (at start: before any new job of this
   * instance exists).
   */
  public Set<String> takeable(boolean ownToo) {
    Set<String> ids = new java.util.HashSet<>();
    db.read(
        c -> {
          for (Object[] row :
              rows(
                  c,
                  "SELECT id FROM jobs WHERE " + TAKEABLE,
                  takeableArgs(clock.millis(), ownToo))) {
            ids.add((String) row[0]);
          }
          return null;
        });
    return ids;
  }

  /**
   * A job that needs an owner and has no live one: its lease ran out, or nobody owns it, or (at
   * start only) this instance's id owns it. Never this instance's own job otherwise: a late
   * heartbeat must not make it take over a job it is running.
   */
  private static final String TAKEABLE =
      "lease_until IS NOT NULL AND (lease_until < ? OR owner IS NULL OR owner = ?)"
          + " AND (owner IS NULL OR owner <> ? OR ? = 1)";

  private Object[] takeableArgs(long now, boolean ownToo) {
    return new Object[] {now, owner.id(), owner.id(), ownToo ? 1 : 0};
  }

  /**
   * Lets go at once of the jobs of this machine's one-shot commands of {@code kind} (see {@link
   * Owner#oneShot}) whose process has died, a killed {@code imagine} say, instead of waiting for
   * their leases to run out.
   *
   * @return how many jobs were let go
   */
  public int releaseDeadOneShots(String kind) {
    String prefix = kind + "-" + Owner.host() + "-";
    int released = 0;
    List<Object[]> owners =
        db.read(
            c ->
                rows(
                    c,
                    "SELECT DISTINCT owner FROM jobs WHERE lease_until IS NOT NULL AND lease_until > 0"
                        + " AND owner LIKE ?",
                    prefix + "%"));
    for (Object[] row : owners) {
      String id = (String) row[0];
      long pid;
      try {
        pid = Long.parseLong(id.substring(prefix.length()));
      } catch (NumberFormatException e) {
        continue; // not one of ours
      }
      if (pid != ProcessHandle.current().pid()
          && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        released +=
            jobs.update(
                "UPDATE jobs SET lease_until = 0 WHERE owner = ? AND lease_until IS NOT NULL", id);
      }
    }
    return released;
  }

  /** Renews one job's lease; false when it is no longer this instance's (or needs no owner). */
  public boolean renew(String id) {
    return jobs.update(
            "UPDATE jobs SET lease_until = ? WHERE id = ? AND owner = ? AND lease_until IS NOT NULL",
            jobs.leaseEnd(),
            id,
            owner.id())
        == 1;
  }

  /**
   * Lets a job go: its lease ends now, so another instance takes it at once (a queued job left by a
   * shutdown, an answer this instance gave up delivering).
   */
  public void release(String id) {
    jobs.update(
        "UPDATE jobs SET lease_until = 0 WHERE id = ? AND owner = ? AND lease_until IS NOT NULL",
        id,
        owner.id());
  }

  /** Leaves a job with no owner for good: nothing is left that any instance can do for it. */
  public void giveUp(String id) {
    jobs.update(
        "UPDATE jobs SET lease_until = NULL WHERE id = ? AND owner = ? AND lease_until IS NOT NULL",
        id,
        owner.id());
  }

  /**
   * Renews the lease of every job this instance owns, in one statement, and its row in {@code
   * instances}.
   *
   * @return how many jobs it holds
   */
  public int heartbeat() {
    long now = clock.millis();
    return db.transaction(
        c -> {
          int held =
              jobs.update(
                  "UPDATE jobs SET lease_until = ? WHERE owner = ? AND lease_until > 0",
                  jobs.leaseEnd(),
                  owner.id());
          jobs.update("UPDATE instances SET heartbeat_at = ? WHERE id = ?", now, owner.id());
          return held;
        });
  }

  /** A bot instance as its row in {@code instances} says. */
  public record Instance(
      String id, String host, long pid, Instant startedAt, Instant heartbeatAt) {}

  /**
   * The jobs that need an owner: held under a live lease, and waiting to be taken over (their lease
   * ran out; {@code oldestWait}: for how long the longest-waiting one has, or zero).
   */
  public record Health(long held, long orphaned, Duration oldestWait) {}

  /**
   * Records this process as the running instance of its id, for {@code doctor} and so that a second
   * process with the same id is refused.
   *
   * @throws IllegalStateException when a live process has this id: its heartbeat is recent and it
   *     runs on another host, or on this host with its process still alive
   */
  public void register() {
    String host = Owner.host();
    long pid = ProcessHandle.current().pid();
    long now = clock.millis();
    db.transaction(
        c -> {
          List<Object[]> rows =
              rows(c, "SELECT host, pid, heartbeat_at FROM instances WHERE id = ?", owner.id());
          if (!rows.isEmpty()) {
            String theirHost = (String) rows.get(0)[0];
            long theirPid = ((Number) rows.get(0)[1]).longValue();
            long beat = ((Number) rows.get(0)[2]).longValue();
            boolean sameHost = theirHost.equals(host);
            boolean alive =
                sameHost
                    ? theirPid != pid
                        && ProcessHandle.of(theirPid).map(ProcessHandle::isAlive).orElse(false)
                    : now - beat < owner.leaseMillis();
            if (alive) {
              throw new IllegalStateException(
                  "another bot instance with the id '"
                      + owner.id()
                      + "' is running (host "
                      + theirHost
                      + ", pid "
                      + theirPid
                      + "). Give each instance its own instance.id (FLUXBOT_INSTANCE_ID), or stop"
                      + " the other one first.");
            }
            jobs.update("DELETE FROM instances WHERE id = ?", owner.id());
          }
          jobs.update(
              "INSERT INTO instances (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)",
              owner.id(),
              host,
              pid,
              now,
              now);
          return null;
        });
  }

  /** Removes this instance's row: it has stopped. */
  public void unregister() {
    jobs.update(
        "DELETE FROM instances WHERE id = ? AND pid = ?",
        owner.id(),
        ProcessHandle.current().pid());
  }

  /** The instances that have recorded themselves, the most recent heartbeat first. */
  public List<Instance> instances() {
    return db.read(
        c -> {
          List<Instance> out = new ArrayList<>();
          for (Object[] r :
              rows(
                  c,
                  "SELECT id, host, pid, started_at, heartbeat_at FROM instances ORDER BY heartbeat_at DESC")) {
            out.add(
                new Instance(
                    (String) r[0],
                    (String) r[1],
                    ((Number) r[2]).longValue(),
                    Instant.ofEpochMilli(((Number) r[3]).longValue()),
                    Instant.ofEpochMilli(((Number) r[4]).longValue())));
          }
          return out;
        });
  }

  /** See {@link Health}. */
  public Health health() {
    long now = clock.millis();
    return db.read(
        c -> {
          long held =
              count(
                  c,
                  "SELECT count(*) FROM jobs WHERE lease_until IS NOT NULL AND lease_until >= ?",
                  now);
          List<Object[]> orphans =
              rows(
                  c,
                  "SELECT count(*), min(lease_until) FROM jobs WHERE lease_until IS NOT NULL AND lease_until < ?",
                  now);
          long orphaned = ((Number) orphans.get(0)[0]).longValue();
          Object oldest = orphans.get(0)[1];
          Duration wait =
              orphaned == 0 || oldest == null
                  ? Duration.ZERO
                  : Duration.ofMillis(now - Math.max(0, ((Number) oldest).longValue()));
          return new Health(held, orphaned, wait);
        });
  }

  private void lockStarts(java.sql.Connection c) throws SQLException {
    if (db.dialect() == Database.Dialect.POSTGRESQL) {
      try (PreparedStatement st = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
        st.setLong(1, START_LOCK);
        st.executeQuery().close();
      }
    }
  }

  static long count(java.sql.Connection c, String sql, Object... args) throws SQLException {
    return ((Number) rows(c, sql, args).get(0)[0]).longValue();
  }

  static List<Object[]> rows(java.sql.Connection c, String sql, Object... args)
      throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      JobStore.bind(st, args);
      try (ResultSet rs = st.executeQuery()) {
        List<Object[]> out = new ArrayList<>();
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
          Object[] row = new Object[n];
          for (int i = 0; i < n; i++) {
            row[i] = rs.getObject(i + 1);
          }
          out.add(row);
        }
        return out;
      }
    }
  }
}
