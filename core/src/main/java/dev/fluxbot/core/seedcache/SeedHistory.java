package dev.fluxbot.core.seedcache;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.store.Database;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** Each user's last seed, for {@code --seed last}. */
public interface SeedHistory {
  OptionalLong lastSeed(Requester requester);

  void remember(Requester requester, long seed);

  /** Kept in the database ({@code user_state}), so {@code --seed last} survives restarts. */
  static SeedHistory inDatabase(Database db, java.time.InstantSource clock) {
    return new SeedHistory() {
      @Override
      public OptionalLong lastSeed(Requester requester) {
        return db.read(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "SELECT last_seed FROM user_state WHERE platform = ? AND user_id = ?")) {
                st.setString(1, requester.platform());
                st.setString(2, requester.userId());
                try (var rs = st.executeQuery()) {
                  if (rs.next()) {
                    long seed = rs.getLong(1);
                    return rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(seed);
                  }
                  return OptionalLong.empty();
                }
              }
            });
      }

      @Override
      public void remember(Requester requester, long seed) {
        db.transaction(
            c -> {
              try (var st =
                  c.prepareStatement(
                      """
              INSERT INTO user_state (platform, user_id, last_seed, updated_at) VALUES (?, ?, ?, ?)
              ON CONFLICT (platform, user_id) DO UPDATE SET last_seed = excluded.last_seed,
                updated_at = excluded.updated_at""")) {
                st.setString(1, requester.platform());
                st.setString(2, requester.userId());
                st.setLong(3, seed);
                st.setLong(4, clock.millis());
                return st.executeUpdate();
              }
            });
      }
    };
  }

  /** Kept in memory for as long as the process lives. */
  static SeedHistory inMemory() {
    ConcurrentMap<String, Long> seeds = new ConcurrentHashMap<>();
    return new SeedHistory() {
      @Override
      public OptionalLong lastSeed(Requester requester) {
        Long s = seeds.get(requester.key());
        return s == null ? OptionalLong.empty() : OptionalLong.of(s);
      }

      @Override
      public void remember(Requester requester, long seed) {
        seeds.put(requester.key(), seed);
      }
    };
  }
}
