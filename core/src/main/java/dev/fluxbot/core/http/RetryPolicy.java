package dev.fluxbot.core.http;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.random.RandomGenerator;

/**
 * When an HTTP call is tried again after a 429 or a failure, and how long to wait first: the wait
 * the server named ({@code Retry-After}, Telegram's {@code retry_after}), else exponential backoff
 * with full jitter (0.5·2^(n−1) s, at most 30 s: BFL's SDK policy); no wait over {@link #maxWait}
 * and no more than {@link #maxRetries} retries. It only decides; the caller waits with its {@code
 * Sleeper}, so tests move a fake clock.
 */
public final class RetryPolicy {
  /** Retries of one call before it gives up: the rule every chat platform's 429s follow. */
  public static final int MAX_RETRIES = 5;

  /** The longest wait: a server asking for more gets this. */
  public static final Duration MAX_WAIT = Duration.ofMinutes(2);

  /** The top of the backoff curve, before {@link #maxWait}. */
  static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  private final int maxRetries;
  private final Duration maxWait;
  private final InstantSource clock;
  private final RandomGenerator random;

  /**
   * @param maxRetries retries after the first try (0: never retry)
   * @param maxWait the longest single wait
   * @param clock reads an HTTP-date {@code Retry-After}
   * @param random the backoff's jitter
   */
  public RetryPolicy(
      int maxRetries, Duration maxWait, InstantSource clock, RandomGenerator random) {
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must be >= 0: " + maxRetries);
    }
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("maxWait must not be negative: " + maxWait);
    }
    this.maxRetries = maxRetries;
    this.maxWait = maxWait;
    this.clock = Objects.requireNonNull(clock, "clock");
    this.random = Objects.requireNonNull(random, "random");
  }

  /** {@link #MAX_RETRIES} retries, waits up to {@link #MAX_WAIT}, the system clock. */
  public static RetryPolicy standard() {
    return new RetryPolicy(MAX_RETRIES, MAX_WAIT, InstantSource.system(), new Random());
  }

  /** The same rule with another number of retries (0: try once). */
  public RetryPolicy withMaxRetries(int maxRetries) {
    return new RetryPolicy(maxRetries, maxWait, clock, random);
  }

  public int maxRetries() {
    return maxRetries;
  }

  public Duration maxWait() {
    return maxWait;
  }

  /**
   * The wait before trying again after {@code tries} tries failed, or empty when {@code tries} is
   * over {@link #maxRetries} (the call gives up).
   *
   * @param serverWait the wait the server named, if any
   */
  public Optional<Duration> next(int tries, Optional<Duration> serverWait) {
    return tries > maxRetries ? Optional.empty() : Optional.of(delay(tries, serverWait));
  }

  /**
   * The wait after {@code tries} failed tries, whatever their number: the server's wait (none below
   * zero), else the backoff; at most {@link #maxWait}. For callers bounded by a deadline.
   */
  public Duration delay(int tries, Optional<Duration> serverWait) {
    Duration wait =
        serverWait.map(d -> d.isNegative() ? Duration.ZERO : d).orElseGet(() -> backoff(tries));
    return wait.compareTo(maxWait) > 0 ? maxWait : wait;
  }

  /** 0.5·2^(tries−1) s with full jitter, at most 30 s and at most {@link #maxWait}. */
  public Duration backoff(int tries) {
    double capSeconds = Math.min(MAX_BACKOFF.toMillis() / 1000.0, 0.5 * Math.pow(2, tries - 1));
    Duration d = Duration.ofMillis((long) (random.nextDouble() * capSeconds * 1000));
    return d.compareTo(maxWait) > 0 ? maxWait : d;
  }

  /**
   * A {@code Retry-After} header: seconds (none below zero) or an HTTP date (none in the past);
   * empty when missing or neither.
   */
  public Optional<Duration> retryAfter(String header) {
    if (header == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(header.trim()))));
    } catch (NumberFormatException e) {
      try {
        Instant date =
            ZonedDateTime.parse(header.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        Duration d = Duration.between(clock.instant(), date);
        return Optional.of(d.isNegative() ? Duration.ZERO : d);
      } catch (DateTimeParseException ignored) {
        return Optional.empty(); // neither seconds nor a date: the caller backs off
      }
    }
  }
}
