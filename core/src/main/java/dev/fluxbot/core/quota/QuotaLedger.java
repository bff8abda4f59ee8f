package dev.fluxbot.core.quota;

import static dev.fluxbot.core.quota.Sql.prepare;
import static dev.fluxbot.core.quota.Sql.update;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.quota.QuotaService.Period;
import dev.fluxbot.core.quota.QuotaService.Reservation;
import dev.fluxbot.core.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The credit ledger: a job's holds, and their commit or release, all as rows in the database.
 *
 * <h2>Design notes</h2>
 *
 * <p>A balance is one {@code quota_usage} row per account and window ({@code spent}, {@code
 * reserved}, {@code granted}); a hold is one {@code quota_reservations} row per job and account,
 * {@code HELD} until settled. Nothing lives in memory, so several instances can share one
 * PostgreSQL database and a restart finds every hold ({@link #held}).
 *
 * <p><b>Reserve.</b> One transaction inserts the window's row if missing ({@code ON CONFLICT DO
 * NOTHING}), locks it, and only then reads the balance, counts the account's holds, inserts its
 * hold and adds to {@code reserved}. Check and write happen under one lock: two reserves on an
 * account serialize, the second sees the first's hold, and {@code spent + reserved} never passes
 * {@code limit + granted}. On PostgreSQL the lock is {@code SELECT … FOR UPDATE} on the row, and at
 * READ COMMITTED (PostgreSQL's default; Database sets no other) each later statement sees what
 * earlier holders committed. On SQLite (one instance) every transaction starts with BEGIN IMMEDIATE
 * under Database's writer lock, so the whole database is the lock and {@code FOR UPDATE} is left
 * out.
 *
 * <p><b>Lock order.</b> A transaction that touches two balances locks the user's row first and
 * {@code bfl:spend} second, in reserve and settle alike, so the two cannot deadlock (Database would
 * retry a PostgreSQL deadlock or serialization failure anyway). {@code bfl:spend} is a hot row:
 * every BFL job serializes on it for one short transaction.
 *
 * <p><b>Commit and release.</b> {@link #settle} first locks the job's rows {@code WHERE state =
 * 'HELD'}; of two settles of one job the second re-checks that condition after waiting for the lock
 * (PostgreSQL re-evaluates it on the committed row), finds nothing and does nothing, so a job is
 * charged or refunded once, and a crash before the settle costs a retry, never a double charge. A
 * hold is settled into the window it was taken in, even when that window has since ended.
 *
 * <p><b>Retries.</b> Database may run a transaction's work more than once; the work here reads the
 * clock before the transaction and changes nothing outside the database, so a rerun is harmless.
 *
 * <p>The one gap: the cap on jobs at a time counts holds in every window but locks only the current
 * window's row, so two reserves that land in different windows (across a boundary, or after the
 * user's rule changed period) could pass the cap by one. Credits are never affected.
 */
final class QuotaLedger {
  /** The installation's BFL spending: one account, calendar-month windows. */
  static final String BFL_ACCOUNT = "bfl:spend";

  private final Database db;
  private final QuotaService.Settings settings;
  private final InstantSource clock;
  private final QuotaRules rules;

  QuotaLedger(Database db, QuotaService.Settings settings, InstantSource clock, QuotaRules rules) {
    this.db = db;
    this.settings = settings;
    this.clock = clock;
    this.rules = rules;
  }

  /** A balance: one account's window. */
  record Usage(long spent, long reserved, long granted) {
    long left(long limit) {
      return Math.max(0, limit + granted - spent - reserved);
    }
  }

  static String account(String platform, String scope, String userId) {
    Objects.requireNonNull(platform, "platform");
    Objects.requireNonNull(userId, "userId");
    return "user:" + platform + ":" + scope + ":" + userId;
  }

  /** See {@link QuotaService#reserve}; {@code estimateMilli} is more than 0 here. */
  List<Reservation> reserve(
      Requester who,
      String scope,
      String jobId,
      String modelId,
      long estimateMilli,
      boolean countsTowardBflSpend) {
    Instant now = clock.instant();
    String account = account(who.platform(), scope, who.userId());
    return db.transaction(
        c -> {
          QuotaRules.Rule rule = rules.find(c, who.platform(), scope, who.userId(), who.roles());
          Window window = Window.of(rule.period(), now, settings.zone());
          Usage usage = lockUsage(c, account, window.startMilli());
          List<Reservation> existing = heldBy(c, jobId);
          if (!existing.isEmpty()) {
            return existing;
          }
          checkConcurrency(c, account, jobId);
          long left = usage.left(rule.creditsMilli());
          if (estimateMilli > left) {
            throw new UserError(
                UserError.Code.QUOTA_EXCEEDED,
                QuotaMessages.creditsRefusal(
                    left,
                    rule.creditsMilli() + usage.granted(),
                    estimateMilli,
                    modelId,
                    window,
                    now,
                    settings.zone()));
          }
          List<Reservation> holds = new ArrayList<>(2);
          holds.add(
              hold(
                  c,
                  new Reservation(jobId, account, window.startMilli(), estimateMilli, modelId),
                  now));
          if (countsTowardBflSpend) {
            holds.add(holdBflSpend(c, jobId, modelId, estimateMilli, now));
          }
          return List.copyOf(holds);
        });
  }

  /** Moves the job's holds out of {@code reserved}, charging {@code chargeMilli} as spent. */
  void settle(String jobId, String state, long chargeMilli) {
    long now = clock.millis();
    db.transaction(
        c -> {
          List<Reservation> holds =
              new ArrayList<>(
                  reservations(
                      c,
                      """
          SELECT job_id, account, window_start, amount_milli, model FROM quota_reservations
          WHERE job_id = ? AND state = 'HELD'"""
                          + forUpdate(true),
                      jobId));
          holds.sort(
              Comparator.comparing(
                  (Reservation r) -> r.account().equals(BFL_ACCOUNT))); // lock order: user first
          for (Reservation r : holds) {
            update(
                c,
                """
            UPDATE quota_usage SET spent_milli = spent_milli + ?, reserved_milli = reserved_milli - ?
            WHERE account = ? AND window_start = ?""",
                chargeMilli,
                r.amountMilli(),
                r.account(),
                r.windowStart());
            update(
                c,
                """
            UPDATE quota_reservations SET state = ?, settled_milli = ?, settled_at = ?
            WHERE job_id = ? AND account = ? AND state = 'HELD'""",
                state,
                chargeMilli,
                now,
                jobId,
                r.account());
          }
          return null;
        });
  }

  /** See {@link QuotaService#bflSpendThisMonth}. */
  QuotaService.BflSpend bflSpendThisMonth() {
    Window month = Window.of(Period.MONTH, clock.instant(), settings.zone());
    Usage usage = db.read(c -> readUsage(c, BFL_ACCOUNT, month.startMilli(), false));
    return new QuotaService.BflSpend(
        usage.spent(), usage.reserved(), settings.monthlyBflSpendCapMilli());
  }

  /** Every hold not yet settled, oldest first. */
  List<Reservation> held() {
    return db.read(
        c ->
            reservations(
                c,
                """
        SELECT job_id, account, window_start, amount_milli, model FROM quota_reservations
        WHERE state = 'HELD' ORDER BY created_at, job_id, account""",
                null));
  }

  static void insertUsage(Connection c, String account, long windowStart) throws SQLException {
    update(
        c,
        "INSERT INTO quota_usage (account, window_start) VALUES (?, ?) ON CONFLICT DO NOTHING",
        account,
        windowStart);
  }

  /** The window's balance, zero where it has no row; {@code lock}: FOR UPDATE on PostgreSQL. */
  Usage readUsage(Connection c, String account, long windowStart, boolean lock)
      throws SQLException {
    String sql =
        "SELECT spent_milli, reserved_milli, granted_milli FROM quota_usage WHERE account = ? AND window_start = ?"
            + forUpdate(lock);
    try (PreparedStatement ps = prepare(c, sql, account, windowStart);
        ResultSet rs = ps.executeQuery()) {
      return rs.next()
          ? new Usage(rs.getLong(1), rs.getLong(2), rs.getLong(3))
          : new Usage(0, 0, 0);
    }
  }

  /**
   * Creates the window's row if missing, then locks it (SQLite: already locked by BEGIN IMMEDIATE).
   */
  private Usage lockUsage(Connection c, String account, long windowStart) throws SQLException {
    insertUsage(c, account, windowStart);
    return readUsage(c, account, windowStart, true);
  }

  private String forUpdate(boolean lock) {
    return lock && db.dialect() == Database.Dialect.POSTGRESQL ? " FOR UPDATE" : "";
  }

  /**
   * Refuses a job when the user holds credits for as many jobs as the cap allows. The images of one
   * command ({@code --n}) count as one: a group's hold is counted once, and a job joins its
   * group's.
   */
  private void checkConcurrency(Connection c, String account, String jobId) throws SQLException {
    long running;
    try (PreparedStatement ps =
            prepare(
                c,
                "SELECT COUNT(DISTINCT COALESCE(g.group_id, r.job_id)) FROM quota_reservations r"
                    + " LEFT JOIN job_groups g ON g.job_id = r.job_id"
                    + " WHERE r.state = 'HELD' AND r.account = ? AND COALESCE(g.group_id, r.job_id)"
                    + " <> COALESCE((SELECT group_id FROM job_groups WHERE job_id = ?), ?)",
                account,
                jobId,
                jobId);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      running = rs.getLong(1);
    }
    int cap = settings.maxConcurrentJobsPerUser();
    if (running >= cap) {
      throw new UserError(
          UserError.Code.QUOTA_EXCEEDED, QuotaMessages.concurrencyRefusal(running, cap));
    }
  }

  private Reservation holdBflSpend(
      Connection c, String jobId, String modelId, long estimateMilli, Instant now)
      throws SQLException {
    Window month = Window.of(Period.MONTH, now, settings.zone());
    Usage spend = lockUsage(c, BFL_ACCOUNT, month.startMilli());
    Long cap = settings.monthlyBflSpendCapMilli();
    if (cap != null && estimateMilli > spend.left(cap)) {
      throw new UserError(
          UserError.Code.QUOTA_EXCEEDED, QuotaMessages.bflBudgetRefusal(cap, month));
    }
    return hold(
        c, new Reservation(jobId, BFL_ACCOUNT, month.startMilli(), estimateMilli, modelId), now);
  }

  private static Reservation hold(Connection c, Reservation r, Instant now) throws SQLException {
    update(
        c,
        """
        INSERT INTO quota_reservations (job_id, account, window_start, amount_milli, state, model, created_at)
        VALUES (?, ?, ?, ?, 'HELD', ?, ?)""",
        r.jobId(),
        r.account(),
        r.windowStart(),
        r.amountMilli(),
        r.modelId(),
        now.toEpochMilli());
    update(
        c,
        "UPDATE quota_usage SET reserved_milli = reserved_milli + ? WHERE account = ? AND window_start = ?",
        r.amountMilli(),
        r.account(),
        r.windowStart());
    return r;
  }

  /** The job's holds, user first; a job that was already settled may not reserve again. */
  private static List<Reservation> heldBy(Connection c, String jobId) throws SQLException {
    try (PreparedStatement ps =
            prepare(
                c,
                "SELECT COUNT(*) FROM quota_reservations WHERE job_id = ? AND state <> 'HELD'",
                jobId);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      if (rs.getLong(1) > 0) {
        throw new IllegalStateException(
            "job " + jobId + " was already settled; a job id reserves once");
      }
    }
    return reservations(
        c,
        """
        SELECT job_id, account, window_start, amount_milli, model FROM quota_reservations
        WHERE job_id = ? ORDER BY CASE WHEN account = 'bfl:spend' THEN 1 ELSE 0 END""",
        jobId);
  }

  private static List<Reservation> reservations(Connection c, String sql, String jobId)
      throws SQLException {
    List<Reservation> out = new ArrayList<>();
    try (PreparedStatement ps = jobId == null ? c.prepareStatement(sql) : prepare(c, sql, jobId);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new Reservation(
                rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getString(5)));
      }
    }
    return List.copyOf(out);
  }
}
