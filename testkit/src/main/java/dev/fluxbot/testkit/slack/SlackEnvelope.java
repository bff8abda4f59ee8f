package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * What Slack sends a bot for one thing a user did: over Socket Mode as an envelope, over HTTP as
 * the request to the app's Request URL.
 *
 * @param type {@code slash_commands}, {@code interactive} or {@code events_api}
 * @param triggerId the trigger for {@code views.open}, or null (events carry none)
 * @param responseUrl where the app may answer up to 5 times in 30 minutes, or null
 */
public record SlackEnvelope(String envelopeId, String type, JsonNode payload, String triggerId, String responseUrl) {
  public SlackEnvelope {
    Objects.requireNonNull(envelopeId, "envelopeId");
    Objects.requireNonNull(type, "type");
    payload = payload.deepCopy();
  }

  @Override
  public JsonNode payload() {
    return payload.deepCopy();
  }
}
