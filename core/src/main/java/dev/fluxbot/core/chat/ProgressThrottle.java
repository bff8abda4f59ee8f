package dev.fluxbot.core.chat;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/**
 * Which status edits of one job go out: a new text at most once per interval (platforms rate-limit
 * message edits), at once when forced, never the same text twice.
 */
public final class ProgressThrottle {
  /** One edit a second: within Discord's and Slack's per-message edit limits. */
  public static final Duration EVERY = Duration.ofSeconds(1);

  private final InstantSource clock;
  private final Duration every;
  private Instant last = Instant.EPOCH;
  private String shown;

  public ProgressThrottle(InstantSource clock, Duration every) {
    this.clock = clock;
    this.every = every;
  }

  /** Whether {@code text} should be shown now; if so, it counts as shown. */
  public synchronized boolean admit(String text, boolean force) {
    Instant now = clock.instant();
    if (text.equals(shown) || (!force && now.isBefore(last.plus(every)))) {
      return false;
    }
    last = now;
    shown = text;
    return true;
  }
}
