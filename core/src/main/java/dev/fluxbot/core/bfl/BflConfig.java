package dev.fluxbot.core.bfl;

import dev.fluxbot.core.Secret;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * How to reach the BFL API.
 *
 * @param apiKey the {@code x-key}; null when none is configured (the backend then declines)
 * @param baseUrl the submit host; {@link Region#baseUrl()} unless overridden
 * @param maxActiveTasks BFL allows 24 tasks in flight per key
 * @param waitLimit how long one job may take, from the moment it asks for a slot
 * @param pollInterval the wait between polls after the first; it grows to {@code maxPollInterval}
 * @param maxRetries retries of one call (connect failures, 5xx on GET), with jittered backoff
 * @param maxResultBytes the largest result image it downloads
 * @param firstPoll the wait before the first poll; null: the model's typical time ({@code
 *     firstPollMs} in models.json), else {@code pollInterval}
 * @param pollGrowth each wait after the second is the one before times this (at least 1)
 */
public record BflConfig(
    Secret apiKey,
    URI baseUrl,
    int maxActiveTasks,
    Duration waitLimit,
    Duration pollInterval,
    Duration maxPollInterval,
    int maxRetries,
    long maxResultBytes,
    Duration firstPoll,
    double pollGrowth) {

  /** BFL's API hosts. */
  public enum Region {
    GLOBAL("https://api.bfl.ai"),
    EU("https://api.eu.bfl.ai"),
    US("https://api.us.bfl.ai");

    private final URI baseUrl;

    Region(String baseUrl) {
      this.baseUrl = URI.create(baseUrl);
    }

    public URI baseUrl() {
      return baseUrl;
    }

    public static Region parse(String name) {
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "bfl.region: must be global, eu or us; got \"" + name + "\"");
      }
    }
  }

  public static final Duration DEFAULT_WAIT_LIMIT = Duration.ofSeconds(600);

  public BflConfig {
    Objects.requireNonNull(baseUrl, "baseUrl");
    Objects.requireNonNull(waitLimit, "waitLimit");
    Objects.requireNonNull(pollInterval, "pollInterval");
    Objects.requireNonNull(maxPollInterval, "maxPollInterval");
    String scheme = baseUrl.getScheme();
    if (!"https".equals(scheme) && !"http".equals(scheme)) {
      throw new IllegalArgumentException("bfl base URL must be http(s); got \"" + baseUrl + "\"");
    }
    if (maxActiveTasks < 1) {
      throw new IllegalArgumentException("maxActiveTasks must be >= 1: " + maxActiveTasks);
    }
    if (waitLimit.isNegative() || waitLimit.isZero()) {
      throw new IllegalArgumentException("waitLimit must be positive: " + waitLimit);
    }
    if (!(pollGrowth >= 1 && pollGrowth <= 4)) {
      throw new IllegalArgumentException("pollGrowth must be 1..4: " + pollGrowth);
    }
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must be >= 0: " + maxRetries);
    }
  }

  /**
   * The defaults for a key: the global host, 24 tasks, 600 s; the first poll after the model's
   * typical time, then every 0.25 s growing to 1 s.
   */
  public static BflConfig defaults(Secret apiKey) {
    return new BflConfig(
        apiKey,
        Region.GLOBAL.baseUrl(),
        24,
        DEFAULT_WAIT_LIMIT,
        Duration.ofMillis(250),
        Duration.ofSeconds(1),
        3,
        64L * 1024 * 1024,
        null,
        1.25);
  }

  public BflConfig withBaseUrl(URI url) {
    return new BflConfig(
        apiKey,
        url,
        maxActiveTasks,
        waitLimit,
        pollInterval,
        maxPollInterval,
        maxRetries,
        maxResultBytes,
        firstPoll,
        pollGrowth);
  }

  public BflConfig withWaitLimit(Duration limit) {
    return new BflConfig(
        apiKey,
        baseUrl,
        maxActiveTasks,
        limit,
        pollInterval,
        maxPollInterval,
        maxRetries,
        maxResultBytes,
        firstPoll,
        pollGrowth);
  }

  /**
   * The schedule before polls adapted to the model: the first poll after {@code first}, then from
   * {@code first} growing by half to {@code max}, for every model.
   */
  public BflConfig withPolling(Duration first, Duration max) {
    return new BflConfig(
        apiKey,
        baseUrl,
        maxActiveTasks,
        waitLimit,
        first,
        max,
        maxRetries,
        maxResultBytes,
        first,
        1.5);
  }

  public BflConfig withMaxActiveTasks(int n) {
    return new BflConfig(
        apiKey,
        baseUrl,
        n,
        waitLimit,
        pollInterval,
        maxPollInterval,
        maxRetries,
        maxResultBytes,
        firstPoll,
        pollGrowth);
  }

  /**
   * The first poll after {@code first} for every model (null: each model's typical time), then the
   * configured intervals.
   */
  public BflConfig withFirstPoll(Duration first) {
    return new BflConfig(
        apiKey,
        baseUrl,
        maxActiveTasks,
        waitLimit,
        pollInterval,
        maxPollInterval,
        maxRetries,
        maxResultBytes,
        first,
        pollGrowth);
  }

  @Override
  public String toString() {
    return "BflConfig[baseUrl="
        + baseUrl
        + ", key="
        + (apiKey == null ? "none" : "set")
        + ", maxActiveTasks="
        + maxActiveTasks
        + ", waitLimit="
        + waitLimit
        + "]";
  }
}
