package dev.fluxbot.core.quota;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Text;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.store.Database;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Credits per user and calendar window: reserved before a job runs, committed (at the actual cost)
 * or refunded when it ends; plus the admin side (rules, grants, resets, bans, usage).
 *
 * <h2>Design notes: concurrency and restarts</h2>
 *
 * <p>The ledger lives only in the database, so several bot instances can share it. A balance is one
 * {@code quota_usage} row per account and window ({@code spent}, {@code reserved}, {@code
 * granted}); a hold is one {@code quota_reservations} row per job and account.
 *
 * <p><b>No overspend.</b> {@link #reserve} is one transaction that inserts the window's row if
 * missing ({@code ON CONFLICT DO NOTHING}), then <em>locks</em> it, and only then reads the
 * balance, counts the account's holds, inserts its own hold and adds to {@code reserved}. On SQLite
 * the lock is the database write lock that every transaction takes first (BEGIN IMMEDIATE); on
 * PostgreSQL it is {@code SELECT … FOR UPDATE} on the row, and because PostgreSQL runs at READ
 * COMMITTED, each statement after the lock sees what earlier holders committed. Check and write
 * therefore happen under one lock: two reserves on an account serialize, the second sees the
 * first's hold, and {@code spent + reserved} never passes {@code limit + granted}.
 *
 * <p><b>No deadlock.</b> A transaction that touches two balances takes the user's row first and the
 * installation's {@code bfl:spend} row second, in reserve and in settle alike. (PostgreSQL
 * deadlocks and serialization failures would be retried by {@link Database} anyway.) The {@code
 * bfl:spend} row is a hot row: every BFL job serializes on it for one short transaction.
 *
 * <p><b>Settle exactly once.</b> {@link #commit} and {@link #refund} first lock the job's rows
 * {@code WHERE state = 'HELD'}; of two settles of one job the second (which re-checks the row after
 * waiting for the lock) finds nothing and does nothing. A hold is settled into the window it was
 * taken in, even when that window has since ended.
 *
 * <p><b>Restarts.</b> Holds are rows, not memory: {@link #held()} lists them after a restart and
 * the app settles each when its job resumes or fails; settling is idempotent, so a crash between
 * "job done" and "settled" costs a retry, never a double charge.
 *
 * <p><b>Retries.</b> Database may run a transaction's work more than once; the work here reads the
 * clock before the transaction and changes nothing outside the database, so a rerun is harmless.
 *
 * <p>The one gap: the concurrency cap counts holds over all windows but locks only the current
 * window's row, so two reserves racing across a window boundary could pass the cap by one. Credits
 * are never affected.
 */
public final class QuotaService {
  /** The installation's BFL spending: one account, calendar-month windows. */
  static final String BFL_ACCOUNT = "bfl:spend";

  private static final String EVERY = "*";
  private static final Comparator<UsageRow> USAGE_ORDER =
      Comparator.comparing(UsageRow::platform)
          .thenComparing(UsageRow::scopeId)
          .thenComparing(UsageRow::userId)
          .thenComparing(UsageRow::modelId);

  private final Database db;
  private final Settings settings;
  private final InstantSource clock;

  public QuotaService(Database db, Settings settings, InstantSource clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * How quotas behave where no rule says otherwise.
   *
   * @param zone the time zone of the calendar windows and of the reset times users see
   * @param maxConcurrentJobsPerUser how many held jobs one account may have at a time
   * @param monthlyBflSpendCapMilli the installation's BFL budget per calendar month; null = none
   */
  public record Settings(
      ZoneId zone,
      Period defaultPeriod,
      long defaultCreditsMilli,
      int maxConcurrentJobsPerUser,
      Long monthlyBflSpendCapMilli) {
    public Settings {
      Objects.requireNonNull(zone, "zone");
      Objects.requireNonNull(defaultPeriod, "defaultPeriod");
      requireNotNegative("defaultCreditsMilli", defaultCreditsMilli);
      if (maxConcurrentJobsPerUser < 1) {
        throw new IllegalArgumentException(
            "maxConcurrentJobsPerUser must be at least 1. Provided: " + maxConcurrentJobsPerUser);
      }
      if (monthlyBflSpendCapMilli != null) {
        requireNotNegative("monthlyBflSpendCapMilli", monthlyBflSpendCapMilli);
      }
    }

    /** UTC, 50 credits a day, 2 jobs at a time, no BFL cap. */
    public static Settings defaults() {
      return new Settings(ZoneOffset.UTC, Period.DAY, 50_000, 2, null);
    }
  }

  /**
   * A calendar window in {@link Settings#zone}: a day from 00:00, an ISO week from Monday, a month
   * from the 1st.
   */
  public enum Period {
    DAY("today"),
    WEEK("this week"),
    MONTH("this month");

    private final String phrase;

    Period(String phrase) {
      this.phrase = phrase;
    }

    private LocalDate firstDay(LocalDate date) {
      return switch (this) {
        case DAY -> date;
        case WEEK -> date.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
        case MONTH -> date.withDayOfMonth(1);
      };
    }

    private LocalDate next(LocalDate first) {
      return switch (this) {
        case DAY -> first.plusDays(1);
        case WEEK -> first.plusWeeks(1);
        case MONTH -> first.plusMonths(1);
      };
    }

    Window window(Instant now, ZoneId zone) {
      LocalDate first = firstDay(LocalDate.ofInstant(now, zone));
      return new Window(this, first.atStartOfDay(zone), next(first).atStartOfDay(zone));
    }

    String key() {
      return name().toLowerCase(Locale.ROOT);
    }

    static Period ofKey(String key) {
      return valueOf(key.toUpperCase(Locale.ROOT));
    }
  }

  /** A job's hold on an account's window. */
  public record Reservation(
      String jobId, String account, long windowStart, long amountMilli, String modelId) {}

  /**
   * What {@code /quota} shows.
   *
   * @param limitMilli the rule's credits per window, before grants
   * @param leftMilli {@code limit + granted - spent - reserved}, never below 0
   * @param source which rule set the limit: {@code user}, {@code role <id>}, {@code scope}, {@code
   *     default}
   */
  public record Status(
      Period period,
      long limitMilli,
      long spentMilli,
      long reservedMilli,
      long grantedMilli,
      long leftMilli,
      Instant windowStart,
      Instant resetsAt,
      String source,
      boolean banned) {

    /**
     * The words {@code /quota} and an admin's {@code quota show} share on every platform: "3.5 of
     * 10 credits left today (spent 5.5, 1 held by images in progress)". Held credits are named only
     * when some are held; the total is the rule's limit plus grants.
     */
    public String summary() {
      long total = limitMilli + grantedMilli;
      return credits(leftMilli)
          + " of "
          + creditsNoun(total)
          + " left "
          + period.phrase
          + " (spent "
          + credits(spentMilli)
          + (reservedMilli > 0 ? ", " + credits(reservedMilli) + " held by images in progress" : "")
          + ")";
    }
  }

  /**
   * Whom a rule is for. Platform and scope {@code "*"} mean every one; a scope rule's id is {@code
   * "*"}.
   */
  public record Subject(String platform, String scopeId, Kind kind, String id) {
    public enum Kind {
      SCOPE,
      ROLE,
      USER
    }

    public Subject {
      Objects.requireNonNull(platform, "platform");
      Objects.requireNonNull(scopeId, "scopeId");
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(id, "id");
      if (kind == Kind.SCOPE && !id.equals(EVERY)) {
        throw new IllegalArgumentException(
            "a scope rule's id must be \"*\". Provided: " + Text.quote(id));
      }
      if (kind != Kind.SCOPE && id.equals(EVERY)) {
        throw new IllegalArgumentException(
            "a "
                + kind.name().toLowerCase(Locale.ROOT)
                + " rule needs a "
                + kind.name().toLowerCase(Locale.ROOT)
                + " id, not \"*\"");
      }
      if (platform.equals(EVERY) && (kind != Kind.SCOPE || !scopeId.equals(EVERY))) {
        throw new IllegalArgumentException(
            "platform \"*\" is only for a scope rule in every scope; use the user's or role's own platform");
      }
    }

    public static Subject scope(String platform, String scopeId) {
      return new Subject(platform, scopeOrEvery(scopeId), Kind.SCOPE, EVERY);
    }

    public static Subject role(String platform, String scopeId, String roleId) {
      return new Subject(platform, scopeOrEvery(scopeId), Kind.ROLE, roleId);
    }

    public static Subject user(String platform, String scopeId, String userId) {
      return new Subject(platform, scopeOrEvery(scopeId), Kind.USER, userId);
    }

    String kindKey() {
      return kind.name().toLowerCase(Locale.ROOT);
    }
  }

  /** One line of the usage report: committed jobs and credits for a user and a model. */
  public record UsageRow(
      String platform,
      String scopeId,
      String userId,
      String modelId,
      long jobs,
      long creditsMilli) {}

  // ---------------------------------------------------------------------------------------------
  // User-facing

  /**
   * Holds {@code estimateMilli} of the user's credits (and of the installation's BFL budget when
   * {@code countsTowardBflSpend}) for {@code jobId}. An estimate of 0 (a free cache hit) holds
   * nothing. Calling it again for a job that already holds returns the existing holds.
   *
   * @throws UserError {@code BANNED}, or {@code QUOTA_EXCEEDED} saying what is left and when it
   *     resets
   */
  public List<Reservation> reserve(
      Requester who,
      String jobId,
      String modelId,
      long estimateMilli,
      boolean countsTowardBflSpend) {
    Objects.requireNonNull(who, "who");
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(modelId, "modelId");
    requireNotNegative("estimateMilli", estimateMilli);
    String scope = scopeOrEvery(who.scopeId());
    Optional<Ban> ban = db.read(c -> findBan(c, who.platform(), scope, who.userId()));
    if (ban.isPresent()) {
      throw new UserError(UserError.Code.BANNED, ban.get().message());
    }
    if (estimateMilli == 0) {
      return List.of();
    }
    Instant now = clock.instant();
    String account = account(who.platform(), scope, who.userId());
    return db.transaction(
        c -> {
          Rule rule = findRule(c, who.platform(), scope, who.userId(), who.roles());
          Window window = rule.period().window(now, settings.zone());
          Usage usage = lockUsage(c, account, window.startMilli());
          List<Reservation> existing = heldBy(c, jobId);
          if (!existing.isEmpty()) {
            return existing;
          }
          checkConcurrency(c, account);
          long left = usage.left(rule.creditsMilli());
          if (estimateMilli > left) {
            throw new UserError(
                UserError.Code.QUOTA_EXCEEDED,
                creditsRefusal(
                    left,
                    rule.creditsMilli() + usage.granted(),
                    estimateMilli,
                    modelId,
                    window,
                    now));
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

  /**
   * Charges {@code actualMilli} for the job and releases its holds; a settled or unknown job is a
   * no-op.
   */
  public void commit(String jobId, long actualMilli) {
    requireNotNegative("actualMilli", actualMilli);
    settle(Objects.requireNonNull(jobId, "jobId"), "COMMITTED", actualMilli);
  }

  /** Releases the job's holds without a charge; a settled or unknown job is a no-op. */
  public void refund(String jobId) {
    settle(Objects.requireNonNull(jobId, "jobId"), "REFUNDED", 0);
  }

  /** Every hold not yet settled, oldest first: after a restart the app settles each one. */
  public List<Reservation> held() {
    return db.read(
        c ->
            reservations(
                c,
                """
        SELECT job_id, account, window_start, amount_milli, model FROM quota_reservations
        WHERE state = 'HELD' ORDER BY created_at, job_id, account""",
                null));
  }

  /** The requester's quota in the current window, as {@code /quota} shows it. */
  public Status status(Requester who) {
    return show(who.platform(), who.scopeId(), who.userId(), who.roles());
  }

  /** Whether the user is banned in the requester's scope or in every scope. */
  public boolean isBanned(Requester who) {
    String scope = scopeOrEvery(who.scopeId());
    return db.read(c -> findBan(c, who.platform(), scope, who.userId())).isPresent();
  }

  // ---------------------------------------------------------------------------------------------
  // Admin (every platform and the CLI); scope "*" or null means every scope

  /** Sets the credits per period for a subject, replacing its rule if it had one. */
  public void setRule(Subject subject, Period period, long creditsMilli) {
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(period, "period");
    requireNotNegative("creditsMilli", creditsMilli);
    long now = clock.millis();
    db.transaction(
        c ->
            update(
                c,
                """
        INSERT INTO quota_rules (platform, scope_id, subject_kind, subject_id, period, credits_milli, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (platform, scope_id, subject_kind, subject_id) DO UPDATE SET period = excluded.period,
          credits_milli = excluded.credits_milli, updated_at = excluded.updated_at""",
                subject.platform(),
                subject.scopeId(),
                subject.kindKey(),
                subject.id(),
                period.key(),
                creditsMilli,
                now));
  }

  /** Removes a subject's rule; the next most specific one applies. */
  public void removeRule(Subject subject) {
    Objects.requireNonNull(subject, "subject");
    db.transaction(
        c ->
            update(
                c,
                "DELETE FROM quota_rules WHERE platform = ? AND scope_id = ? AND subject_kind = ? AND subject_id = ?",
                subject.platform(),
                subject.scopeId(),
                subject.kindKey(),
                subject.id()));
  }

  /** Extra credits for the user in the current window. */
  public void grant(String platform, String scopeId, String userId, long creditsMilli) {
    if (creditsMilli <= 0) {
      throw new IllegalArgumentException(
          "credits to grant must be more than 0. Provided: " + credits(creditsMilli));
    }
    String account = account(platform, scopeOrEvery(scopeId), userId);
    Set<Long> windows = currentWindowStarts();
    db.transaction(
        c -> {
          for (long start : windows) {
            insertUsage(c, account, start);
            update(
                c,
                "UPDATE quota_usage SET granted_milli = granted_milli + ? WHERE account = ? AND window_start = ?",
                creditsMilli,
                account,
                start);
          }
          return null;
        });
  }

  /** Sets the user's spent and granted credits in the current window back to 0; holds stay. */
  public void reset(String platform, String scopeId, String userId) {
    String account = account(platform, scopeOrEvery(scopeId), userId);
    Set<Long> windows = currentWindowStarts();
    db.transaction(
        c -> {
          for (long start : windows) {
            update(
                c,
                "UPDATE quota_usage SET spent_milli = 0, granted_milli = 0 WHERE account = ? AND window_start = ?",
                account,
                start);
          }
          return null;
        });
  }

  /** A user's quota as {@link #status} shows it, for an admin who knows the user's roles. */
  public Status show(String platform, String scopeId, String userId, Set<String> roles) {
    Objects.requireNonNull(platform, "platform");
    Objects.requireNonNull(userId, "userId");
    Set<String> roleSet = Set.copyOf(roles);
    String scope = scopeOrEvery(scopeId);
    Instant now = clock.instant();
    return db.read(
        c -> {
          Rule rule = findRule(c, platform, scope, userId, roleSet);
          Window window = rule.period().window(now, settings.zone());
          Usage usage = readUsage(c, account(platform, scope, userId), window.startMilli(), false);
          boolean banned = findBan(c, platform, scope, userId).isPresent();
          return new Status(
              rule.period(),
              rule.creditsMilli(),
              usage.spent(),
              usage.reserved(),
              usage.granted(),
              usage.left(rule.creditsMilli()),
              window.start().toInstant(),
              window.end().toInstant(),
              rule.source(),
              banned);
        });
  }

  /** Bans the user in the scope ({@code "*"}: in every scope of the platform). */
  public void ban(String platform, String scopeId, String userId, String reason) {
    Objects.requireNonNull(platform, "platform");
    Objects.requireNonNull(userId, "userId");
    long now = clock.millis();
    db.transaction(
        c ->
            update(
                c,
                """
        INSERT INTO bans (platform, scope_id, user_id, reason, created_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (platform, scope_id, user_id) DO UPDATE SET reason = excluded.reason,
          created_at = excluded.created_at""",
                platform,
                scopeOrEvery(scopeId),
                userId,
                reason,
                now));
  }

  /** Lifts the ban in exactly that scope ({@code "*"}: the ban in every scope). */
  public void unban(String platform, String scopeId, String userId) {
    db.transaction(
        c ->
            update(
                c,
                "DELETE FROM bans WHERE platform = ? AND scope_id = ? AND user_id = ?",
                platform,
                scopeOrEvery(scopeId),
                userId));
  }

  /**
   * Committed jobs and credits per platform, scope, user and model, settled in {@code [from, to)}.
   */
  public List<UsageRow> usage(Instant from, Instant to) {
    long fromMilli = from.toEpochMilli();
    long toMilli = to.toEpochMilli();
    return db.read(
        c -> {
          List<UsageRow> rows = new ArrayList<>();
          try (PreparedStatement ps =
                  prepare(
                      c,
                      """
          SELECT account, model, COUNT(*), SUM(settled_milli) FROM quota_reservations
          WHERE state = 'COMMITTED' AND account LIKE 'user:%' AND settled_at >= ? AND settled_at < ?
          GROUP BY account, model""",
                      fromMilli,
                      toMilli);
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              // user:<platform>:<scope>:<user>; the user id is last, so it may hold ':' itself
              String[] parts = rs.getString(1).split(":", 4);
              rows.add(
                  new UsageRow(
                      parts[1], parts[2], parts[3], rs.getString(2), rs.getLong(3), rs.getLong(4)));
            }
          }
          rows.sort(
              USAGE_ORDER); // in Java: a PostgreSQL collation may order ':' and '*' differently
          return List.copyOf(rows);
        });
  }

  // ---------------------------------------------------------------------------------------------
  // Machinery

  record Window(Period period, ZonedDateTime start, ZonedDateTime end) {
    long startMilli() {
      return start.toInstant().toEpochMilli();
    }
  }

  private record Rule(Period period, long creditsMilli, String source) {}

  private record RuleRow(
      String platform,
      String scopeId,
      Subject.Kind kind,
      String id,
      Period period,
      long creditsMilli) {
    boolean is(String p, String s, Subject.Kind k) {
      return platform.equals(p) && scopeId.equals(s) && kind == k;
    }

    Rule rule() {
      String source =
          switch (kind) {
            case USER -> "user";
            case ROLE -> "role " + id;
            case SCOPE -> "scope";
          };
      return new Rule(period, creditsMilli, source);
    }
  }

  private record Usage(long spent, long reserved, long granted) {
    long left(long limit) {
      return Math.max(0, limit + granted - spent - reserved);
    }
  }

  private record Ban(String scopeId, String reason) {
    String message() {
      String where = scopeId.equals(EVERY) ? "with this bot" : "here";
      String why = reason == null || reason.isBlank() ? "" : " (reason: " + reason.strip() + ")";
      return "You are banned from making images "
          + where
          + why
          + ". Ask an admin if you think this is a mistake.";
    }
  }

  static String account(String platform, String scope, String userId) {
    Objects.requireNonNull(platform, "platform");
    Objects.requireNonNull(userId, "userId");
    return "user:" + platform + ":" + scope + ":" + userId;
  }

  private static String scopeOrEvery(String scopeId) {
    return scopeId == null ? EVERY : scopeId;
  }

  private static void requireNotNegative(String name, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must not be negative. Provided: " + value);
    }
  }

  // A grant or reset does not know the user's roles, so not their period either: it changes the
  // current window of every period (windows that start together share one row).
  private Set<Long> currentWindowStarts() {
    Instant now = clock.instant();
    Set<Long> starts = new LinkedHashSet<>();
    for (Period p : Period.values()) {
      starts.add(p.window(now, settings.zone()).startMilli());
    }
    return starts;
  }

  /**
   * The most specific rule: user (scope, "*"), the largest role (scope, "*"), scope, platform,
   * every platform.
   */
  private Rule findRule(
      Connection c, String platform, String scope, String userId, Set<String> roles)
      throws SQLException {
    List<RuleRow> rows = ruleRows(c, platform, scope, userId);
    return userRule(rows, platform, scope, userId)
        .or(() -> userRule(rows, platform, EVERY, userId))
        .or(() -> largestRole(rows, platform, scope, roles))
        .or(() -> largestRole(rows, platform, EVERY, roles))
        .or(() -> first(rows, platform, scope, Subject.Kind.SCOPE))
        .or(() -> first(rows, platform, EVERY, Subject.Kind.SCOPE))
        .or(() -> first(rows, EVERY, EVERY, Subject.Kind.SCOPE))
        .map(RuleRow::rule)
        .orElseGet(
            () -> new Rule(settings.defaultPeriod(), settings.defaultCreditsMilli(), "default"));
  }

  private static Optional<RuleRow> userRule(
      List<RuleRow> rows, String platform, String scope, String userId) {
    return rows.stream()
        .filter(r -> r.is(platform, scope, Subject.Kind.USER) && r.id().equals(userId))
        .findFirst();
  }

  private static Optional<RuleRow> largestRole(
      List<RuleRow> rows, String platform, String scope, Set<String> roles) {
    return rows.stream()
        .filter(r -> r.is(platform, scope, Subject.Kind.ROLE) && roles.contains(r.id()))
        .max(
            Comparator.comparingLong(RuleRow::creditsMilli)
                .thenComparing(RuleRow::id, Comparator.reverseOrder()));
  }

  private static Optional<RuleRow> first(
      List<RuleRow> rows, String platform, String scope, Subject.Kind kind) {
    return rows.stream().filter(r -> r.is(platform, scope, kind)).findFirst();
  }

  private static List<RuleRow> ruleRows(Connection c, String platform, String scope, String userId)
      throws SQLException {
    List<RuleRow> rows = new ArrayList<>();
    try (PreparedStatement ps =
            prepare(
                c,
                """
        SELECT platform, scope_id, subject_kind, subject_id, period, credits_milli FROM quota_rules
        WHERE ((platform = ? AND scope_id IN (?, '*')) OR (platform = '*' AND scope_id = '*' AND subject_kind = 'scope'))
          AND (subject_kind <> 'user' OR subject_id = ?)""",
                platform,
                scope,
                userId);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        rows.add(
            new RuleRow(
                rs.getString(1),
                rs.getString(2),
                Subject.Kind.valueOf(rs.getString(3).toUpperCase(Locale.ROOT)),
                rs.getString(4),
                Period.ofKey(rs.getString(5)),
                rs.getLong(6)));
      }
    }
    return rows;
  }

  private static Optional<Ban> findBan(Connection c, String platform, String scope, String userId)
      throws SQLException {
    try (PreparedStatement ps =
            prepare(
                c,
                """
        SELECT scope_id, reason FROM bans WHERE platform = ? AND user_id = ? AND scope_id IN (?, '*')
        ORDER BY CASE WHEN scope_id = '*' THEN 1 ELSE 0 END""",
                platform,
                userId,
                scope);
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? Optional.of(new Ban(rs.getString(1), rs.getString(2))) : Optional.empty();
    }
  }

  /**
   * Creates the window's row if missing, then locks it (SQLite: already locked by BEGIN IMMEDIATE).
   */
  private Usage lockUsage(Connection c, String account, long windowStart) throws SQLException {
    insertUsage(c, account, windowStart);
    return readUsage(c, account, windowStart, true);
  }

  private static void insertUsage(Connection c, String account, long windowStart)
      throws SQLException {
    update(
        c,
        "INSERT INTO quota_usage (account, window_start) VALUES (?, ?) ON CONFLICT DO NOTHING",
        account,
        windowStart);
  }

  private Usage readUsage(Connection c, String account, long windowStart, boolean lock)
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

  private String forUpdate(boolean lock) {
    return lock && db.dialect() == Database.Dialect.POSTGRESQL ? " FOR UPDATE" : "";
  }

  private void checkConcurrency(Connection c, String account) throws SQLException {
    long running;
    try (PreparedStatement ps =
            prepare(
                c,
                "SELECT COUNT(*) FROM quota_reservations WHERE state = 'HELD' AND account = ?",
                account);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      running = rs.getLong(1);
    }
    int cap = settings.maxConcurrentJobsPerUser();
    if (running >= cap) {
      throw new UserError(
          UserError.Code.QUOTA_EXCEEDED,
          "You have "
              + running
              + (running == 1 ? " image" : " images")
              + " in progress; the limit is "
              + cap
              + " at a time. Wait for "
              + (running == 1 ? "it" : "one")
              + " to finish.");
    }
  }

  private Reservation holdBflSpend(
      Connection c, String jobId, String modelId, long estimateMilli, Instant now)
      throws SQLException {
    Window month = Period.MONTH.window(now, settings.zone());
    Usage spend = lockUsage(c, BFL_ACCOUNT, month.startMilli());
    Long cap = settings.monthlyBflSpendCapMilli();
    if (cap != null && estimateMilli > spend.left(cap)) {
      throw new UserError(
          UserError.Code.QUOTA_EXCEEDED,
          "This bot's monthly BFL budget ($"
              + dollars(cap)
              + ") is used up until "
              + month.end().format(DAY_MONTH)
              + "; ask an admin.");
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

  private void settle(String jobId, String state, long chargeMilli) {
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

  private static PreparedStatement prepare(Connection c, String sql, Object... args)
      throws SQLException {
    PreparedStatement ps = c.prepareStatement(sql);
    try {
      for (int i = 0; i < args.length; i++) {
        if (args[i] == null) {
          ps.setNull(i + 1, Types.VARCHAR);
        } else {
          ps.setObject(i + 1, args[i]);
        }
      }
      return ps;
    } catch (SQLException | RuntimeException e) {
      ps.close();
      throw e;
    }
  }

  private static Integer update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = prepare(c, sql, args)) {
      return ps.executeUpdate();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm", Locale.ENGLISH);
  private static final DateTimeFormatter WEEKDAY =
      DateTimeFormatter.ofPattern("EEEE", Locale.ENGLISH);
  private static final DateTimeFormatter DAY_MONTH =
      DateTimeFormatter.ofPattern("d MMMM", Locale.ENGLISH);

  /**
   * "You have 3 of 50 credits left today; this image needs 7 (pro). Resets at 00:00 UTC (in 5 h 12
   * min)."
   */
  private String creditsRefusal(
      long left, long total, long needs, String modelId, Window window, Instant now) {
    return "You have "
        + credits(left)
        + " of "
        + creditsNoun(total)
        + " left "
        + window.period().phrase
        + "; this image needs "
        + credits(needs)
        + " ("
        + modelId
        + "). "
        + resets(window, now)
        + ".";
  }

  private String resets(Window window, Instant now) {
    ZonedDateTime end = window.end();
    String when =
        switch (window.period()) {
          case DAY -> "";
          case WEEK -> end.format(WEEKDAY) + " ";
          case MONTH -> "on " + end.format(DAY_MONTH) + " ";
        };
    return "Resets "
        + when
        + "at "
        + end.format(TIME)
        + " "
        + zoneName(settings.zone())
        + " (in "
        + span(Duration.between(now, end.toInstant()))
        + ")";
  }

  private static String zoneName(ZoneId zone) {
    return zone.normalized().equals(ZoneOffset.UTC) ? "UTC" : zone.getId();
  }

  /** Rounded up to the minute: "5 h 12 min", "45 min", "3 d 4 h". */
  static String span(Duration d) {
    long minutes = Math.max(1, (d.toMillis() + 59_999) / 60_000);
    long days = minutes / (24 * 60);
    long hours = minutes % (24 * 60) / 60;
    long mins = minutes % 60;
    if (days > 0) {
      return days + " d" + (hours > 0 ? " " + hours + " h" : "");
    }
    if (hours > 0) {
      return hours + " h" + (mins > 0 ? " " + mins + " min" : "");
    }
    return mins + " min";
  }

  /** "1 credit", "2.5 credits". */
  static String creditsNoun(long milli) {
    return Credits.count(milli);
  }

  /** Millicredits as credits: 1400 → "1.4", 50000 → "50". */
  static String credits(long milli) {
    return Credits.format(milli);
  }

  /** Millicredits as dollars: "50", "12.50". */
  static String dollars(long milli) {
    BigDecimal d = BigDecimal.valueOf(milli, 5).stripTrailingZeros();
    return d.scale() <= 0 ? d.toPlainString() : d.setScale(2, RoundingMode.HALF_UP).toPlainString();
  }
}
