package dev.fluxbot.core;

import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** Each user's last seed, for {@code --seed last}. */
public interface SeedHistory {
  OptionalLong lastSeed(Requester requester);

  void remember(Requester requester, long seed);

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
