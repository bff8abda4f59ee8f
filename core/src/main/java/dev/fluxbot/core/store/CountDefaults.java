package dev.fluxbot.core.store;

import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * The default for {@code --n} (how many images a command makes): a user's own and a scope's (a
 * Discord server, a Slack workspace, a Telegram group). A user's wins over their scope's.
 */
public final class CountDefaults {
  private final Database db;
  private final InstantSource clock;

  CountDefaults(Database db, InstantSource clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  public OptionalInt user(String platform, String userId) {
    return read(platform, "user", userId);
  }

  public OptionalInt scope(String platform, String scopeId) {
    return scopeId == null ? OptionalInt.empty() : read(platform, "scope", scopeId);
  }

  /** Sets (1 to 4) or, with null, forgets the user's default. */
  public void setUser(String platform, String userId, Integer n) {
    write(platform, "user", userId, n);
  }

  /** Sets (1 to 4) or, with null, forgets the scope's default. */
  public void setScope(String platform, String scopeId, Integer n) {
    write(platform, "scope", scopeId, n);
  }

  private OptionalInt read(String platform, String subject, String id) {
    return db.read(
        c -> {
          List<Object[]> rows =
              JobLeases.rows(
                  c,
                  "SELECT n FROM count_defaults WHERE platform = ? AND subject = ? AND subject_id = ?",
                  platform,
                  subject,
                  id);
          return rows.isEmpty()
              ? OptionalInt.empty()
              : OptionalInt.of(((Number) rows.get(0)[0]).intValue());
        });
  }

  private void write(String platform, String subject, String id, Integer n) {
    db.transaction(
        c -> {
          try (var del =
              c.prepareStatement(
                  "DELETE FROM count_defaults WHERE platform = ? AND subject = ? AND subject_id = ?")) {
            JobStore.bind(del, new Object[] {platform, subject, id});
            del.executeUpdate();
          }
          if (n != null) {
            try (var ins =
                c.prepareStatement(
                    "INSERT INTO count_defaults (platform, subject, subject_id, n, updated_at)"
                        + " VALUES (?, ?, ?, ?, ?)")) {
              JobStore.bind(ins, new Object[] {platform, subject, id, n, clock.millis()});
              ins.executeUpdate();
            }
          }
          return null;
        });
  }
}
