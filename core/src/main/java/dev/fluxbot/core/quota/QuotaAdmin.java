package dev.fluxbot.core.quota;

import static dev.fluxbot.core.quota.QuotaService.requireNotNegative;
import static dev.fluxbot.core.quota.QuotaService.scopeOrEvery;
import static dev.fluxbot.core.quota.Sql.prepare;
import static dev.fluxbot.core.quota.Sql.update;

import dev.fluxbot.core.quota.QuotaService.Period;
import dev.fluxbot.core.quota.QuotaService.Status;
import dev.fluxbot.core.quota.QuotaService.Subject;
import dev.fluxbot.core.quota.QuotaService.UsageRow;
import dev.fluxbot.core.store.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** The admin side of {@link QuotaService}: rules, grants, resets, bans and the usage report. */
final class QuotaAdmin {
  private static final Comparator<UsageRow> USAGE_ORDER =
      Comparator.comparing(UsageRow::platform)
          .thenComparing(UsageRow::scopeId)
          .thenComparing(UsageRow::userId)
          .thenComparing(UsageRow::modelId);

  private static void add(Map<List<String>, UsageRow> byKey, UsageRow row) {
    byKey.merge(
        List.of(row.platform(), row.scopeId(), row.userId(), row.modelId()),
        row,
        (a, b) ->
            new UsageRow(
                a.platform(),
                a.scopeId(),
                a.userId(),
                a.modelId(),
                a.jobs() + b.jobs(),
                a.creditsMilli() + b.creditsMilli()));
  }

  private final Database db;
  private final QuotaService.Settings settings;
  private final InstantSource clock;
  private final QuotaRules rules;
  private final QuotaLedger ledger;

  QuotaAdmin(
      Database db,
      QuotaService.Settings settings,
      InstantSource clock,
      QuotaRules rules,
      QuotaLedger ledger) {
    this.db = db;
    this.settings = settings;
    this.clock = clock;
    this.rules = rules;
    this.ledger = ledger;
  }

  void setRule(Subject subject, Period period, long creditsMilli) {
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

  void removeRule(Subject subject) {
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

  void grant(String platform, String scopeId, String userId, long creditsMilli) {
    if (creditsMilli <= 0) {
      throw new IllegalArgumentException(
          "credits to grant must be more than 0. Provided: " + Credits.format(creditsMilli));
    }
    String account = QuotaLedger.account(platform, scopeOrEvery(scopeId), userId);
    Set<Long> windows = Window.currentStarts(clock.instant(), settings.zone());
    db.transaction(
        c -> {
          for (long start : windows) {
            QuotaLedger.insertUsage(c, account, start);
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

  void reset(String platform, String scopeId, String userId) {
    String account = QuotaLedger.account(platform, scopeOrEvery(scopeId), userId);
    Set<Long> windows = Window.currentStarts(clock.instant(), settings.zone());
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

  Status show(String platform, String scopeId, String userId, Set<String> roles) {
    Objects.requireNonNull(platform, "platform");
    Objects.requireNonNull(userId, "userId");
    Set<String> roleSet = Set.copyOf(roles);
    String scope = scopeOrEvery(scopeId);
    Instant now = clock.instant();
    return db.read(
        c -> {
          QuotaRules.Rule rule = rules.find(c, platform, scope, userId, roleSet);
          Window window = Window.of(rule.period(), now, settings.zone());
          QuotaLedger.Usage usage =
              ledger.readUsage(
                  c, QuotaLedger.account(platform, scope, userId), window.startMilli(), false);
          boolean banned = QuotaRules.findBan(c, platform, scope, userId).isPresent();
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

  void ban(String platform, String scopeId, String userId, String reason) {
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

  void unban(String platform, String scopeId, String userId) {
    db.transaction(
        c ->
            update(
                c,
                "DELETE FROM bans WHERE platform = ? AND scope_id = ? AND user_id = ?",
                platform,
                scopeOrEvery(scopeId),
                userId));
  }

  List<UsageRow> usage(Instant from, Instant to) {
    long fromMilli = from.toEpochMilli();
    long toMilli = to.toEpochMilli();
    return db.read(
        c -> {
          Map<List<String>, UsageRow> byKey = new HashMap<>();
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
              add(
                  byKey,
                  new UsageRow(
                      parts[1], parts[2], parts[3], rs.getString(2), rs.getLong(3), rs.getLong(4)));
            }
          }
          // the images that held no credits: the operator's, and free cache hits
          try (PreparedStatement ps =
                  prepare(
                      c,
                      """
          SELECT platform, scope_id, user_id, model, COUNT(*), COALESCE(SUM(cost_milli), 0) FROM jobs j
          WHERE state = 'SUCCEEDED' AND finished_at >= ? AND finished_at < ?
            AND NOT EXISTS (SELECT 1 FROM quota_reservations r
                            WHERE r.job_id = j.id AND r.state = 'COMMITTED' AND r.account LIKE 'user:%')
          GROUP BY platform, scope_id, user_id, model""",
                      fromMilli,
                      toMilli);
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              add(
                  byKey,
                  new UsageRow(
                      rs.getString(1),
                      rs.getString(2),
                      rs.getString(3),
                      rs.getString(4),
                      rs.getLong(5),
                      rs.getLong(6)));
            }
          }
          List<UsageRow> rows = new ArrayList<>(byKey.values());
          rows.sort(
              USAGE_ORDER); // in Java: a PostgreSQL collation may order ':' and '*' differently
          return List.copyOf(rows);
        });
  }
}
