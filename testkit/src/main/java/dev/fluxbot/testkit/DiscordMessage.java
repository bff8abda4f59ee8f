package dev.fluxbot.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One write of a message that the fake Discord accepted (a reply, an edit, a follow-up, a new
 * channel message), with the message as it stood afterwards.
 *
 * @param messageId the message written
 * @param token the interaction token it went through; null for channel messages
 * @param payload what the client sent: the JSON body, a multipart {@code payload_json}, or an
 *     interaction response's {@code data}
 * @param files the uploaded {@code files[n]} parts of this write
 * @param message the full message object the fake answered with
 */
public record DiscordMessage(
    Kind kind,
    String messageId,
    String channelId,
    String token,
    JsonNode payload,
    List<DiscordPart> files,
    JsonNode message) {
  /** How a message was written. */
  public enum Kind {
    /** An interaction response of type 4 (a reply) or 7 (an update of the component's message). */
    CALLBACK,
    /** {@code PATCH /webhooks/{app}/{token}/messages/@original}. */
    ORIGINAL_EDIT,
    /** {@code POST /webhooks/{app}/{token}}. */
    FOLLOWUP,
    /** {@code PATCH /webhooks/{app}/{token}/messages/{id}} of a follow-up. */
    FOLLOWUP_EDIT,
    /** {@code POST /channels/{id}/messages}. */
    CHANNEL_MESSAGE,
    /** {@code PATCH /channels/{id}/messages/{id}}. */
    CHANNEL_EDIT,
    /** A message a test posted as a user, see {@link FakeDiscord#postMessageAsUser}. */
    USER_MESSAGE
  }

  public DiscordMessage {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(messageId, "messageId");
    Objects.requireNonNull(channelId, "channelId");
    payload = payload.deepCopy();
    files = List.copyOf(files);
    message = message.deepCopy();
  }

  @Override
  public JsonNode payload() {
    return payload.deepCopy();
  }

  @Override
  public JsonNode message() {
    return message.deepCopy();
  }

  /** The message's content after this write. */
  public String content() {
    return message.path("content").asText("");
  }

  public int flags() {
    return message.path("flags").asInt();
  }

  public boolean isEphemeral() {
    return (flags() & DiscordCallback.EPHEMERAL) != 0;
  }

  /** The message's embeds after this write. */
  public JsonNode embeds() {
    return message.path("embeds").deepCopy();
  }

  /** The message's top-level components (action rows) after this write. */
  public JsonNode components() {
    return message.path("components").deepCopy();
  }

  /** The message's attachments after this write, each with its {@code url} on the fake's CDN. */
  public List<JsonNode> attachments() {
    List<JsonNode> list = new ArrayList<>();
    message.path("attachments").forEach(a -> list.add(a.deepCopy()));
    return list;
  }

  /** Every {@code custom_id} in the message's components, depth first, in order. */
  public List<String> customIds() {
    List<String> ids = new ArrayList<>();
    collectCustomIds(message.path("components"), ids);
    return ids;
  }

  /** The uploaded file of this write with that filename. */
  public Optional<DiscordPart> file(String filename) {
    return files.stream().filter(f -> filename.equals(f.filename())).findFirst();
  }

  private static void collectCustomIds(JsonNode node, List<String> ids) {
    if (node.isArray()) {
      node.forEach(child -> collectCustomIds(child, ids));
    } else if (node.isObject()) {
      if (node.hasNonNull("custom_id")) ids.add(node.get("custom_id").asText());
      collectCustomIds(node.path("components"), ids);
      collectCustomIds(node.path("component"), ids);
      collectCustomIds(node.path("accessory"), ids);
    }
  }

  @Override
  public String toString() {
    return kind
        + " message "
        + messageId
        + " in "
        + channelId
        + (token == null ? "" : " via token " + abbreviate(token))
        + ": content=\""
        + content()
        + "\", custom ids "
        + customIds()
        + ", files "
        + files.stream().map(f -> f.filename() + " (" + f.size() + " bytes)").toList()
        + ", flags "
        + flags();
  }

  private static String abbreviate(String token) {
    return token.length() <= 12 ? token : token.substring(0, 12) + "…";
  }
}
