package dev.fluxbot.telegram;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Telegram's per-chat pace for the bot's own messages and edits: about one a second in a private
 * chat, twenty a minute in a group. Each call books the chat's next free slot and says how long
 * to wait for it.
 */
final class Pacer {
  static final Duration PRIVATE = Duration.ofSeconds(1);
  static final Duration GROUP = Duration.ofSeconds(3);

  private final InstantSource clock;
  private final ConcurrentMap<Long, Instant> nextFree = new ConcurrentHashMap<>();

  Pacer(InstantSource clock) {
    this.clock = clock;
  }

  /** Books the next slot in the chat; the wait before it (zero when free now). */
  Duration book(long chatId, boolean group) {
    Instant now = clock.instant();
    Duration interval = group ? GROUP : PRIVATE;
    Instant slot = nextFree.compute(chatId, (id, next) -> (next == null || next.isBefore(now) ? now : next).plus(interval))
        .minus(interval);
    return Duration.between(now, slot);
  }
}
