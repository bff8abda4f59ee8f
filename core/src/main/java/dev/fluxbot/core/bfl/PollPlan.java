package dev.fluxbot.core.bfl;

import dev.fluxbot.core.model.ModelSpec;
import java.time.Duration;

/**
 * When a job asks BFL about its task next.
 *
 * <p>Without a webhook: the first poll after the model's typical time ({@code firstPollMs} in
 * models.json; {@link BflConfig#firstPoll()} overrides it), then short intervals from {@link
 * BflConfig#pollInterval()} growing by {@link BflConfig#pollGrowth()} to {@link
 * BflConfig#maxPollInterval()}. With a webhook the call ends the wait at once, and polls come only
 * every {@link BflWebhooks#safetyPoll()}.
 */
final class PollPlan {
  private final Duration max;
  private final double growth;
  private final boolean webhook;
  private Duration next;
  private boolean first = true;
  private final Duration afterFirst;

  private PollPlan(
      Duration first, Duration afterFirst, Duration max, double growth, boolean webhook) {
    this.growth = growth;
    this.next = first;
    this.afterFirst = afterFirst;
    this.max = max;
    this.webhook = webhook;
  }

  static PollPlan polling(BflConfig config, ModelSpec model) {
    Duration first =
        config.firstPoll() != null
            ? config.firstPoll()
            : model.firstPoll() != null ? model.firstPoll() : config.pollInterval();
    return new PollPlan(
        first, config.pollInterval(), config.maxPollInterval(), config.pollGrowth(), false);
  }

  static PollPlan webhook(BflWebhooks hooks) {
    return new PollPlan(hooks.safetyPoll(), hooks.safetyPoll(), hooks.safetyPoll(), 1, true);
  }

  boolean webhook() {
    return webhook;
  }

  /** The wait before the next poll. */
  Duration next() {
    Duration now = next;
    if (first) {
      first = false;
      next = afterFirst;
    } else {
      Duration grown = Duration.ofNanos((long) (next.toNanos() * growth));
      next = grown.compareTo(max) > 0 ? max : grown;
    }
    return now;
  }
}
