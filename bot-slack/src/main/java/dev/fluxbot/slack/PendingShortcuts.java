package dev.fluxbot.slack;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The files of a message shortcut while its form is open. The form's {@code private_metadata}
 * carries only a random key to them, so the files' private URLs stay in this process.
 */
final class PendingShortcuts {
  static final Duration LIFE = Duration.ofMinutes(30);
  private static final int MAX = 10_000;

  record Pending(List<SlackFiles.FileRef> files, String channel, String threadTs) {
    Pending {
      files = List.copyOf(files);
    }
  }

  private record Entry(Pending pending, Instant expires) {}

  private final InstantSource clock;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  PendingShortcuts(InstantSource clock) {
    this.clock = clock;
  }

  String put(Pending pending) {
    Instant now = clock.instant();
    entries.values().removeIf(e -> e.expires().isBefore(now));
    if (entries.size() >= MAX) {
      entries.clear(); // a flood of forms nobody submits; the oldest users run the shortcut again
    }
    byte[] key = new byte[16];
    random.nextBytes(key);
    String k = HexFormat.of().formatHex(key);
    entries.put(k, new Entry(pending, now.plus(LIFE)));
    return k;
  }

  /** The pending files for {@code key}, once; empty when unknown or expired. */
  Optional<Pending> take(String key) {
    Entry e = key == null ? null : entries.remove(key);
    return e == null || e.expires().isBefore(clock.instant())
        ? Optional.empty()
        : Optional.of(e.pending());
  }
}
