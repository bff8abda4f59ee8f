package dev.fluxbot.core.filter;

import dev.fluxbot.core.store.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The filters admins set, in the database ({@code prompt_filters}, V11), per scope: a server,
 * workspace or chat; every chat on a platform ({@link #EVERY_CHAT}); or the whole installation
 * ({@link #INSTALLATION}).
 */
public final class FilterStore {
  /** The platform of filters that apply everywhere: {@code fluxbot filter add} without a scope. */
  public static final String INSTALLATION = "*";

  /** The scope id of filters for every chat on one platform. */
  public static final String EVERY_CHAT = "";

  /** The most filters one scope may have; the check runs each on every prompt. */
  public static final int MAX_PER_SCOPE = 200;

  /** A stored filter and who set it where. */
  public record Entry(
      String platform, String scopeId, FilterRule rule, String addedBy, Instant addedAt) {}

  private final Database db;
  private final InstantSource clock;

  public FilterStore(Database db, InstantSource clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Adds a filter (already checked: {@link FilterMatcher#compile}).
   *
   * @param scopeId the scope, or null for {@link #EVERY_CHAT}
   * @return false where the scope had it already
   * @throws IllegalArgumentException where the scope has {@value #MAX_PER_SCOPE} filters already
   */
  public boolean add(String platform, String scopeId, FilterRule rule, String addedBy) {
    String scope = scopeId == null ? EVERY_CHAT : scopeId;
    return db.transaction(
        c -> {
          if (list(platform, scope).size() >= MAX_PER_SCOPE) {
            throw FilterMessages.tooMany(MAX_PER_SCOPE);
          }
          try (PreparedStatement st =
              c.prepareStatement(
                  "INSERT INTO prompt_filters (platform, scope_id, pattern, is_regex, added_by,"
                      + " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            st.setString(1, platform);
            st.setString(2, scope);
            st.setString(3, rule.pattern());
            st.setInt(4, rule.regex() ? 1 : 0);
            st.setString(5, addedBy);
            st.setLong(6, clock.millis());
            return st.executeUpdate() == 1;
          }
        });
  }

  /**
   * Removes the scope's filters with this pattern (word and regex alike).
   *
   * @return how many were removed
   */
  public int remove(String platform, String scopeId, String pattern) {
    String scope = scopeId == null ? EVERY_CHAT : scopeId;
    return db.transaction(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "DELETE FROM prompt_filters WHERE platform = ? AND scope_id = ? AND pattern = ?")) {
            st.setString(1, platform);
            st.setString(2, scope);
            st.setString(3, pattern);
            return st.executeUpdate();
          }
        });
  }

  /** One scope's own filters, oldest first. */
  public List<Entry> list(String platform, String scopeId) {
    String scope = scopeId == null ? EVERY_CHAT : scopeId;
    return select("platform = ? AND scope_id = ?", platform, scope);
  }

  /**
   * Every stored filter that applies to a prompt from {@code scopeId} on {@code platform}: the
   * scope's, the platform's every-chat ones, and the installation's.
   *
   * @param scopeId null in a direct message
   */
  public List<Entry> applying(String platform, String scopeId) {
    return select(
        "platform = ? OR (platform = ? AND scope_id IN (?, ?))",
        INSTALLATION,
        platform,
        EVERY_CHAT,
        scopeId == null ? EVERY_CHAT : scopeId);
  }

  /** Every stored filter, by platform and scope: for the CLI's list. */
  public List<Entry> all() {
    return select("1 = 1");
  }

  private List<Entry> select(String where, String... args) {
    return db.read(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT platform, scope_id, pattern, is_regex, added_by, created_at"
                      + " FROM prompt_filters WHERE "
                      + where
                      + " ORDER BY platform, scope_id, created_at, pattern")) {
            for (int i = 0; i < args.length; i++) {
              st.setString(i + 1, args[i]);
            }
            List<Entry> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new Entry(
                        rs.getString(1),
                        rs.getString(2),
                        new FilterRule(rs.getString(3), rs.getInt(4) == 1),
                        rs.getString(5),
                        Instant.ofEpochMilli(rs.getLong(6))));
              }
            }
            return out;
          }
        });
  }
}
