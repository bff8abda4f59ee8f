package dev.fluxbot.core.quota;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Text;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.store.Database;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Credits per user and calendar window: reserved before a job runs, committed (at the actual cost)
 * or refunded when it ends; plus the admin side (rules, grants, resets, bans, usage).
 *
 * <p>The ledger lives only in the database, so several bot instances can share it: a balance never
 * passes its limit, a job is settled exactly once, and holds outlive a restart ({@link #held()}).
 * This class checks arguments and hands the work to package-private helpers: QuotaLedger (holds and
 * settles; its design notes say how they stay correct), QuotaAdmin (rules, grants, resets, bans,
 * usage), QuotaRules (which rule and ban apply), Window (calendar windows) and QuotaMessages (what
 * a refused user reads).
 */
public final class QuotaService {
  /** A rule's platform or scope that means every one; a scope rule's id. */
  static final String EVERY = "*";

  private final Database db;
  private final QuotaLedger ledger;
  private final QuotaAdmin admin;

  public QuotaService(Database db, Settings settings, InstantSource clock) {
    this.db = Objects.requireNonNull(db, "db");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(clock, "clock");
    QuotaRules rules = new QuotaRules(settings);
    this.ledger = new QuotaLedger(db, settings, clock, rules);
    this.admin = new QuotaAdmin(db, settings, clock, rules, ledger);
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

    /** "today", "this week", "this month". */
    String phrase() {
      return phrase;
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
      return summary(java.util.Locale.ENGLISH);
    }

    /** {@link #summary()} in {@code locale}'s language. */
    public String summary(java.util.Locale locale) {
      long total = limitMilli + grantedMilli;
      return dev.fluxbot.core.Messages.format(
          locale,
          reservedMilli > 0 ? "quota.summary.held" : "quota.summary",
          Credits.format(leftMilli),
          dev.fluxbot.core.chat.ChatTexts.credits(total, locale),
          dev.fluxbot.core.Messages.format(
              locale, "period." + period.name().toLowerCase(java.util.Locale.ROOT)),
          Credits.format(spentMilli),
          Credits.format(reservedMilli));
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

  /**
   * One line of the usage report: the images a user made with a model and what they were charged
   * (the operator's images are listed too, never debited).
   */
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
    Optional<QuotaRules.Ban> ban =
        db.read(c -> QuotaRules.findBan(c, who.platform(), scope, who.userId()));
    if (ban.isPresent()) {
      throw new UserError(UserError.Code.BANNED, ban.get().message());
    }
    if (estimateMilli == 0) {
      return List.of();
    }
    return ledger.reserve(who, scope, jobId, modelId, estimateMilli, countsTowardBflSpend);
  }

  /**
   * Charges {@code actualMilli} for the job and releases its holds; a settled or unknown job is a
   * no-op.
   */
  public void commit(String jobId, long actualMilli) {
    requireNotNegative("actualMilli", actualMilli);
    ledger.settle(Objects.requireNonNull(jobId, "jobId"), "COMMITTED", actualMilli);
  }

  /** Releases the job's holds without a charge; a settled or unknown job is a no-op. */
  public void refund(String jobId) {
    ledger.settle(Objects.requireNonNull(jobId, "jobId"), "REFUNDED", 0);
  }

  /**
   * The installation's BFL spending in the current calendar month (in {@link Settings#zone}), read
   * from the database, and its cap.
   */
  public BflSpend bflSpendThisMonth() {
    return ledger.bflSpendThisMonth();
  }

  /**
   * @param spentMilli credits charged for BFL images this month, in thousandths (1 credit = $0.01)
   * @param reservedMilli credits held by BFL jobs in progress
   * @param capMilli {@code quotas.monthly_bfl_budget_dollars} in milli-credits; null: no cap
   */
  public record BflSpend(long spentMilli, long reservedMilli, Long capMilli) {
    /** Whether no new BFL job fits in the budget now. */
    public boolean exhausted() {
      return capMilli != null && spentMilli + reservedMilli >= capMilli;
    }

    /** Credits in milli-credits as dollars. */
    public static double dollars(long milli) {
      return milli / 100_000.0;
    }
  }

  /** Every hold not yet settled, oldest first: after a restart the app settles each one. */
  public List<Reservation> held() {
    return ledger.held();
  }

  /** The requester's quota in the current window, as {@code /quota} shows it. */
  public Status status(Requester who) {
    return show(who.platform(), who.scopeId(), who.userId(), who.roles());
  }

  /** Whether the user is banned in the requester's scope or in every scope. */
  public boolean isBanned(Requester who) {
    String scope = scopeOrEvery(who.scopeId());
    return db.read(c -> QuotaRules.findBan(c, who.platform(), scope, who.userId())).isPresent();
  }

  // ---------------------------------------------------------------------------------------------
  // Admin (every platform and the CLI); scope "*" or null means every scope

  /** Sets the credits per period for a subject, replacing its rule if it had one. */
  public void setRule(Subject subject, Period period, long creditsMilli) {
    admin.setRule(subject, period, creditsMilli);
  }

  /** Removes a subject's rule; the next most specific one applies. */
  public void removeRule(Subject subject) {
    admin.removeRule(subject);
  }

  /** Extra credits for the user in the current window. */
  public void grant(String platform, String scopeId, String userId, long creditsMilli) {
    admin.grant(platform, scopeId, userId, creditsMilli);
  }

  /** Sets the user's spent and granted credits in the current window back to 0; holds stay. */
  public void reset(String platform, String scopeId, String userId) {
    admin.reset(platform, scopeId, userId);
  }

  /** A user's quota as {@link #status} shows it, for an admin who knows the user's roles. */
  public Status show(String platform, String scopeId, String userId, Set<String> roles) {
    return admin.show(platform, scopeId, userId, roles);
  }

  /** Bans the user in the scope ({@code "*"}: in every scope of the platform). */
  public void ban(String platform, String scopeId, String userId, String reason) {
    admin.ban(platform, scopeId, userId, reason);
  }

  /** Lifts the ban in exactly that scope ({@code "*"}: the ban in every scope). */
  public void unban(String platform, String scopeId, String userId) {
    admin.unban(platform, scopeId, userId);
  }

  /**
   * Committed jobs and credits per platform, scope, user and model, settled in {@code [from, to)}.
   */
  public List<UsageRow> usage(Instant from, Instant to) {
    return admin.usage(from, to);
  }

  static String scopeOrEvery(String scopeId) {
    return scopeId == null ? EVERY : scopeId;
  }

  static void requireNotNegative(String name, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must not be negative. Provided: " + value);
    }
  }
}
