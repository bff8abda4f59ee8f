package dev.fluxbot.testkit.discord;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Fresh Discord ids, {@code (now − 1420070400000) << 22 | counter}, from the real clock: JDA reads
 * an interaction's age from its id, and an id from a test clock's past expires its hook.
 */
final class Snowflakes {
  static final long DISCORD_EPOCH_MILLIS = 1_420_070_400_000L;

  private final AtomicLong last = new AtomicLong();

  String next() {
    long fresh = (System.currentTimeMillis() - DISCORD_EPOCH_MILLIS) << 22;
    return Long.toUnsignedString(last.updateAndGet(previous -> Math.max(previous + 1, fresh)));
  }
}
