package dev.fluxbot.runtime.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * The wait before restarting a worker that exited: {@code initial}, doubling up to {@code max};
 * back to {@code initial} once a worker has been healthy for {@code resetAfter}. Not thread-safe:
 * one supervisor loop owns it.
 */
final class Backoff {
  static final Duration DEFAULT_INITIAL = Duration.ofSeconds(1);
  static final Duration DEFAULT_MAX = Duration.ofSeconds(60);
  static final Duration DEFAULT_RESET_AFTER = Duration.ofMinutes(5);

  private final Duration initial;
  private final Duration max;
  private final Duration resetAfter;
  private Duration next;

  Backoff(Duration initial, Duration max, Duration resetAfter) {
    this.initial = Objects.requireNonNull(initial, "initial");
    this.max = Objects.requireNonNull(max, "max");
    this.resetAfter = Objects.requireNonNull(resetAfter, "resetAfter");
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("need 0 < initial <= max: " + initial + ", " + max);
    }
    this.next = initial;
  }

  static Backoff defaults() {
    return new Backoff(DEFAULT_INITIAL, DEFAULT_MAX, DEFAULT_RESET_AFTER);
  }

  /** The wait before the next start, given how long the worker that just exited was healthy. */
  Duration after(Duration healthyFor) {
    if (healthyFor.compareTo(resetAfter) >= 0) {
      next = initial;
    }
    Duration wait = next;
    next = next.multipliedBy(2).compareTo(max) > 0 ? max : next.multipliedBy(2);
    return wait;
  }
}
