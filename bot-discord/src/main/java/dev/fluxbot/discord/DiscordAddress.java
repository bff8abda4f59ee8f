package dev.fluxbot.discord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

/**
 * Where a job's answer goes on Discord, stored with the job: the interaction's token (good for 15
 * minutes after {@code created}), its channel, the user to mention, and whether the channel is the
 * user's DM with the bot (a DM is reopened by user, as JDA caches no DM channels).
 */
record DiscordAddress(String token, String channelId, String userId, Instant created, boolean dm) {
  private static final ObjectMapper JSON = new ObjectMapper();

  String toJson() {
    return JSON.createObjectNode()
        .put("kind", "discord")
        .put("token", token)
        .put("channel", channelId)
        .put("user", userId)
        .put("created", created.toEpochMilli())
        .put("dm", dm)
        .toString();
  }

  static Optional<DiscordAddress> parse(String json) {
    if (json == null) {
      return Optional.empty();
    }
    try {
      JsonNode a = JSON.readTree(json);
      if (!"discord".equals(a.path("kind").asText())) {
        return Optional.empty();
      }
      return Optional.of(
          new DiscordAddress(
              a.path("token").asText(),
              a.path("channel").asText(),
              a.path("user").asText(),
              Instant.ofEpochMilli(a.path("created").asLong()),
              a.path("dm").asBoolean(false)));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
