package dev.fluxbot.discord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.core.Messages;
import java.io.IOException;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a job's answer goes on Discord, stored with the job: the interaction's token (good for 15
 * minutes after {@code created}), its channel, the user to mention, and whether the channel is the
 * user's DM with the bot (a DM is reopened by user, as JDA caches no DM channels), and the language
 * of the user's client, so that an answer after a restart is still in it.
 */
record DiscordAddress(
    String token, String channelId, String userId, Instant created, boolean dm, Locale locale) {
  private static final ObjectMapper JSON = new ObjectMapper();

  DiscordAddress {
    locale = locale == null ? Locale.ENGLISH : locale;
  }

  /** An address whose user's language is not known: answered in English. */
  DiscordAddress(String token, String channelId, String userId, Instant created, boolean dm) {
    this(token, channelId, userId, created, dm, Locale.ENGLISH);
  }

  String toJson() {
    return JSON.createObjectNode()
        .put("kind", "discord")
        .put("token", token)
        .put("channel", channelId)
        .put("user", userId)
        .put("created", created.toEpochMilli())
        .put("dm", dm)
        .put("locale", locale.toLanguageTag())
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
              a.path("dm").asBoolean(false),
              Messages.locale(a.path("locale").asText(null))));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
