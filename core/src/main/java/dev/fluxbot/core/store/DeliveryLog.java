package dev.fluxbot.core.store;

import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What chat platforms have already delivered, kept in the database so that a delivery sent again
 * (Slack resends an event whose ack was lost: at once, after a minute, after five) runs once even
 * when the bot restarted in between. Each id is remembered for {@code keep}; older ones are pruned
 * as new ones come.
 */
public final class DeliveryLog {
  private static final Logger log = LoggerFactory.getLogger(DeliveryLog.class);
  private static final int PRUNE_EVERY = 256;

  /** Ids longer than this are cut: platform ids are far shorter. */
  static final int MAX_ID = 200;

  private final Database db;
  private final InstantSource clock;
  private final Duration keep;
  private final AtomicInteger sincePrune = new AtomicInteger();

  public DeliveryLog(Database db, InstantSource clock, Duration keep) {
    this.db = Objects.requireNonNull(db, "db");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.keep = Objects.requireNonNull(keep, "keep");
  }

  /**
   * True the first time {@code id} is seen within {@code keep} (or when the database cannot say:
   * running a delivery twice is better than dropping it); false for a repeat.
   */
  public boolean first(String id) {
    String key = id.length() > MAX_ID ? id.substring(0, MAX_ID) : id;
    long now = clock.millis();
    long expired = now - keep.toMillis();
    try {
      if (sincePrune.incrementAndGet() % PRUNE_EVERY == 0) {
        prune(expired);
      }
      int changed =
          db.transaction(
              c -> {
                try (PreparedStatement st =
                    c.prepareStatement(
                        "INSERT INTO delivery_log (id, seen_at) VALUES (?, ?)"
                            + " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at WHERE delivery_log.seen_at < ?")) {
                  st.setString(1, key);
                  st.setLong(2, now);
                  st.setLong(3, expired);
                  return st.executeUpdate();
                }
              });
      return changed > 0;
    } catch (RuntimeException e) {
      log.warn("delivery log: cannot check {} ({}); running it", key, e.getMessage());
      return true;
    }
  }

  private void prune(long before) {
    db.transaction(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement("DELETE FROM delivery_log WHERE seen_at < ?")) {
            st.setLong(1, before);
            return st.executeUpdate();
          }
        });
  }
}
