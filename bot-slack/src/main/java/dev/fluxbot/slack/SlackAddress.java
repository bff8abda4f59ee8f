package dev.fluxbot.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a job's answer goes on Slack, stored with the job: the channel, the thread (or null for the
 * channel itself) and the user to mention and to tell errors to. The command's {@code response_url}
 * lives 30 minutes and is kept in memory only, never stored.
 */
record SlackAddress(
    String teamId, String channel, String threadTs, String userId, String responseUrl) {
  private static final ObjectMapper JSON = new ObjectMapper();

  SlackAddress {
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(userId, "userId");
  }

  String toJson() {
    ObjectNode o =
        JSON.createObjectNode()
            .put("kind", "slack")
            .put("team", teamId)
            .put("channel", channel)
            .put("user", userId);
    if (threadTs != null) {
      o.put("thread", threadTs);
    }
    return o.toString();
  }

  static Optional<SlackAddress> parse(String json) {
    if (json == null) {
      return Optional.empty();
    }
    try {
      JsonNode a = JSON.readTree(json);
      if (!"slack".equals(a.path("kind").asText())
          || !a.hasNonNull("channel")
          || !a.hasNonNull("user")) {
        return Optional.empty();
      }
      return Optional.of(
          new SlackAddress(
              a.path("team").asText(null),
              a.path("channel").asText(),
              a.hasNonNull("thread") ? a.path("thread").asText() : null,
              a.path("user").asText(),
              null));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  @Override
  public String toString() {
    return "SlackAddress["
        + channel
        + (threadTs == null ? "" : "/" + threadTs)
        + ", user "
        + userId
        + "]";
  }
}
