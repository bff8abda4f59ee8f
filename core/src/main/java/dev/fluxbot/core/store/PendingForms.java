package dev.fluxbot.core.store;

import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * What an open form needs once it is submitted (a Slack message shortcut's files and where to
 * answer), kept in the database under a random key that the form carries: the form may be submitted
 * to another bot instance than the one that opened it, or after a restart. Each is taken once;
 * expired ones are deleted as new ones come. Payloads are the platform's own and may hold private
 * file URLs: nothing here logs them.
 */
public final class PendingForms {
  /** Keys are 32 hex digits; anything longer is not one of ours. */
  static final int MAX_KEY = 64;

  private final Database db;
  private final InstantSource clock;
  private final SecureRandom random = new SecureRandom();

  public PendingForms(Database db, InstantSource clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Keeps {@code payload} for {@code life}; the random key to {@link #take} it with.
   *
   * @throws Database.StoreException when the database fails
   */
  public String put(String payload, Duration life) {
    Objects.requireNonNull(payload, "payload");
    byte[] bytes = new byte[16];
    random.nextBytes(bytes);
    String key = HexFormat.of().formatHex(bytes);
    long now = clock.millis();
    db.transaction(
        c -> {
          try (PreparedStatement expired =
                  c.prepareStatement("DELETE FROM pending_forms WHERE expires_at < ?");
              PreparedStatement insert =
                  c.prepareStatement(
                      "INSERT INTO pending_forms (id, payload, expires_at) VALUES (?, ?, ?)")) {
            expired.setLong(1, now);
            expired.executeUpdate();
            insert.setString(1, key);
            insert.setString(2, payload);
            insert.setLong(3, now + life.toMillis());
            return insert.executeUpdate();
          }
        });
    return key;
  }

  /**
   * The payload kept under {@code key}, once (it is deleted); empty when the key is unknown, taken
   * already (here or by another instance) or expired.
   *
   * @throws Database.StoreException when the database fails
   */
  public Optional<String> take(String key) {
    if (key == null || key.isEmpty() || key.length() > MAX_KEY) {
      return Optional.empty();
    }
    long now = clock.millis();
    return db.transaction(
        c -> {
          String payload;
          long expires;
          try (PreparedStatement st =
              c.prepareStatement("SELECT payload, expires_at FROM pending_forms WHERE id = ?")) {
            st.setString(1, key);
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              payload = rs.getString(1);
              expires = rs.getLong(2);
            }
          }
          try (PreparedStatement st =
              c.prepareStatement("DELETE FROM pending_forms WHERE id = ?")) {
            st.setString(1, key);
            if (st.executeUpdate() == 0) {
              return Optional.empty(); // another instance took it first
            }
          }
          return expires < now ? Optional.empty() : Optional.of(payload);
        });
  }
}
