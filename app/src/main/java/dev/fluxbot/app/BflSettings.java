package dev.fluxbot.app;

import java.time.Duration;

/**
 * The {@code bfl:} section.
 *
 * @param region {@code global}, {@code eu} or {@code us}
 * @param baseUrl overrides the region's host (env {@code FLUXBOT_BFL_BASE_URL} overrides both)
 * @param apiKeyFile a file holding the key (env {@code BFL_API_KEY} wins)
 * @param webhooks whether submits ask BFL to call back (only where {@code web.public_url} is set)
 * @param webhookPollInterval how often a job that waits for BFL's call polls anyway (1s..5m)
 * @param firstPoll when a task's first poll is due; {@code auto}: the model's typical time
 */
public record BflSettings(
    String region,
    String baseUrl,
    String apiKeyFile,
    Integer maxActiveTasks,
    Integer waitLimitSeconds,
    Boolean webhooks,
    String webhookPollInterval,
    String firstPoll) {
  static final BflSettings DEFAULTS =
      new BflSettings(null, null, null, null, null, null, null, null);

  public BflSettings {
    region = region == null ? "global" : region;
    maxActiveTasks = maxActiveTasks == null ? 24 : maxActiveTasks;
    waitLimitSeconds = waitLimitSeconds == null ? 600 : waitLimitSeconds;
    webhooks = webhooks == null || webhooks;
    webhookPollInterval = webhookPollInterval == null ? "5s" : webhookPollInterval.strip();
    firstPoll = firstPoll == null ? "auto" : firstPoll.strip();
    ConfigValues.positive("bfl.max_active_tasks", maxActiveTasks);
    ConfigValues.positive("bfl.wait_limit_seconds", waitLimitSeconds);
    Duration poll = ConfigValues.duration("bfl.webhook_poll_interval", webhookPollInterval);
    if (poll.compareTo(Duration.ofSeconds(1)) < 0 || poll.compareTo(Duration.ofMinutes(5)) > 0) {
      throw new IllegalArgumentException(
          "bfl.webhook_poll_interval: must be 1s..5m; got \"" + webhookPollInterval + "\"");
    }
    Duration first = firstPoll(firstPoll);
    if (first != null && (first.isZero() || first.compareTo(Duration.ofMinutes(1)) > 0)) {
      throw new IllegalArgumentException(
          "bfl.first_poll: must be auto or 1ms..1m (e.g. 500ms, 2s); got \"" + firstPoll + "\"");
    }
  }

  /** {@code webhook_poll_interval} as a duration. */
  public Duration webhookPollDuration() {
    return ConfigValues.duration("bfl.webhook_poll_interval", webhookPollInterval);
  }

  /** {@code first_poll} as a duration; null for {@code auto}. */
  public Duration firstPollDuration() {
    return firstPoll(firstPoll);
  }

  private static Duration firstPoll(String firstPoll) {
    if (firstPoll.equalsIgnoreCase("auto")) {
      return null;
    }
    if (firstPoll.endsWith("ms")) {
      try {
        return Duration.ofMillis(Long.parseLong(firstPoll.substring(0, firstPoll.length() - 2)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "bfl.first_poll: must be auto or a duration like 500ms or 2s; got \""
                + firstPoll
                + "\"");
      }
    }
    return ConfigValues.duration("bfl.first_poll", firstPoll);
  }
}
