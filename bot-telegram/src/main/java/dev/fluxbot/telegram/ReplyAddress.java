package dev.fluxbot.telegram;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.core.Messages;
import java.io.IOException;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a job's answer goes on Telegram, kept with the job so a restart can deliver it.
 *
 * @param statusMessageId the bot's status message that is edited as the job moves; null when there
 *     is none
 * @param replyToMessageId the message the image answers (the user's command, or the image a button
 *     was under)
 * @param locale the language of the user who asked (Telegram's {@code language_code}), kept so that
 *     an answer after a restart is still in it
 */
record ReplyAddress(
    long chatId,
    Integer statusMessageId,
    Integer replyToMessageId,
    long userId,
    boolean group,
    Locale locale) {
  private static final ObjectMapper JSON = new ObjectMapper();

  ReplyAddress {
    locale = locale == null ? Locale.ENGLISH : locale;
  }

  /** An address whose user's language is not known: answered in English. */
  ReplyAddress(
      long chatId, Integer statusMessageId, Integer replyToMessageId, long userId, boolean group) {
    this(chatId, statusMessageId, replyToMessageId, userId, group, Locale.ENGLISH);
  }

  String toJson() {
    ObjectNode o =
        JSON.createObjectNode()
            .put("platform", "telegram")
            .put("chat", chatId)
            .put("user", userId)
            .put("group", group)
            .put("locale", locale.toLanguageTag());
    if (statusMessageId != null) {
      o.put("status", statusMessageId);
    }
    if (replyToMessageId != null) {
      o.put("reply_to", replyToMessageId);
    }
    return o.toString();
  }

  /** The address in a job row; empty when it is another platform's or not one at all. */
  static Optional<ReplyAddress> parse(String json) {
    if (json == null) {
      return Optional.empty();
    }
    try {
      JsonNode o = JSON.readTree(json);
      if (!"telegram".equals(o.path("platform").asText()) || !o.has("chat")) {
        return Optional.empty();
      }
      return Optional.of(
          new ReplyAddress(
              o.get("chat").asLong(),
              o.has("status") ? o.get("status").asInt() : null,
              o.has("reply_to") ? o.get("reply_to").asInt() : null,
              o.path("user").asLong(),
              o.path("group").asBoolean(),
              Messages.locale(o.path("locale").asText(null))));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
