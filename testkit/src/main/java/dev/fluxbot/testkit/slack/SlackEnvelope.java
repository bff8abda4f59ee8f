package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Objects;

/**
 * What Slack sends a bot for one thing a user did: over Socket Mode as an envelope, over HTTP as
 * the request to the app's Request URL.
 *
 * @param type {@code slash_commands}, {@code interactive} or {@code events_api}
 * @param triggerId the trigger for {@code views.open}, or null (events carry none)
 * @param responseUrl where the app may answer up to 5 times in 30 minutes, or null
 * @param retryAttempt 0 for the first delivery; Slack's {@code retry_attempt} (over HTTP the {@code
 *     X-Slack-Retry-Num} header) for a resend of an event whose ack was lost or late
 * @param retryReason Slack's {@code retry_reason} of a resend ({@code timeout}), else null
 */
public record SlackEnvelope(
    String envelopeId,
    String type,
    JsonNode payload,
    String triggerId,
    String responseUrl,
    int retryAttempt,
    String retryReason) {
  /**
   * How long Slack waits for the app's ack (or its HTTP answer); a later one counts as a timeout.
   */
  public static final Duration ACK_WITHIN = Duration.ofSeconds(3);

  public SlackEnvelope {
    Objects.requireNonNull(envelopeId, "envelopeId");
    Objects.requireNonNull(type, "type");
    payload = payload.deepCopy();
  }

  /** A first delivery. */
  public SlackEnvelope(
      String envelopeId, String type, JsonNode payload, String triggerId, String responseUrl) {
    this(envelopeId, type, payload, triggerId, responseUrl, 0, null);
  }

  @Override
  public JsonNode payload() {
    return payload.deepCopy();
  }

  /**
   * The same payload again under a new envelope id, as Slack resends it: one more retry attempt,
   * {@code reason}.
   */
  SlackEnvelope resent(String newEnvelopeId, String reason) {
    return new SlackEnvelope(
        newEnvelopeId, type, payload, triggerId, responseUrl, retryAttempt + 1, reason);
  }
}
