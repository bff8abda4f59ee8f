package dev.fluxbot.core.quota;

import static dev.fluxbot.core.quota.QuotaService.EVERY;
import static dev.fluxbot.core.quota.Sql.prepare;

import dev.fluxbot.core.quota.QuotaService.Period;
import dev.fluxbot.core.quota.QuotaService.Subject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** Which rule and which ban apply to a user: read inside the caller's transaction. */
final class QuotaRules {
  private final QuotaService.Settings settings;

  QuotaRules(QuotaService.Settings settings) {
    this.settings = settings;
  }

  /** The credits per window a user gets, and which rule said so ({@link QuotaService.Status}). */
  record Rule(Period period, long creditsMilli, String source) {}

  record Ban(String scopeId, String reason) {
    dev.fluxbot.core.Msg message() {
      return QuotaMessages.banned(scopeId, reason);
    }
  }

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

  /**
   * The most specific rule: user (scope, "*"), the largest role (scope, "*"), scope, platform,
   * every platform.
   */
  Rule find(Connection c, String platform, String scope, String userId, Set<String> roles)
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

  /** The user's ban in the scope, else in every scope. */
  static Optional<Ban> findBan(Connection c, String platform, String scope, String userId)
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
}
