package dev.fluxbot.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.core.Messages;
import java.io.IOException;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a job's answer goes on Slack, stored with the job: the channel, the thread (or null for the
 * channel itself), the user to mention and to tell errors to, and the user's language (so that an
 * answer after a restart is still in it). The command's {@code response_url} lives 30 minutes and
 * is kept in memory only, never stored.
 */
record SlackAddress(
    String teamId,
    String channel,
    String threadTs,
    String userId,
    String responseUrl,
    Locale locale) {
  private static final ObjectMapper JSON = new ObjectMapper();

  SlackAddress {
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(userId, "userId");
    locale = locale == null ? Locale.ENGLISH : locale;
  }

  /** An address whose user's language is not known yet: English. */
  SlackAddress(String teamId, String channel, String threadTs, String userId, String responseUrl) {
    this(teamId, channel, threadTs, userId, responseUrl, Locale.ENGLISH);
  }

  /** The same address, answered in {@code language}. */
  SlackAddress withLocale(Locale language) {
    return new SlackAddress(teamId, channel, threadTs, userId, responseUrl, language);
  }

  String toJson() {
    ObjectNode o =
        JSON.createObjectNode()
            .put("kind", "slack")
            .put("team", teamId)
            .put("channel", channel)
            .put("user", userId)
            .put("locale", locale.toLanguageTag());
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
              null,
              Messages.locale(a.path("locale").asText(null))));
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
