package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.testkit.DiscordMessage;
import dev.fluxbot.testkit.DiscordMessage.Kind;
import dev.fluxbot.testkit.DiscordRole;
import java.util.Optional;

/**
 * {@code /channels/{id}…} and {@code POST /users/@me/channels}: the bot's own messages outside
 * interactions.
 */
final class ChannelRoutes {
  private final World world;
  private final MessageStore store;
  private final Recorder recorder;

  ChannelRoutes(World world, MessageStore store, Recorder recorder) {
    this.world = world;
    this.store = store;
    this.recorder = recorder;
  }

  Reply channel(Incoming in, String[] s) {
    return world.locked(
        () -> {
          Optional<ObjectNode> channel = world.channel(s[1]);
          if (channel.isEmpty()) return Reply.error(404, "Unknown Channel", 10003);
          if (s.length == 2)
            return in.method().equals("GET") ? Reply.ok(channel.get()) : Reply.methodNotAllowed();
          if (s.length == 3 && s[2].equals("typing")) return Reply.noContent();
          if (s.length == 3 && s[2].equals("messages")) {
            return in.method().equals("POST") ? create(in, s[1]) : Reply.methodNotAllowed();
          }
          if (s.length == 4 && s[2].equals("messages")) return message(in, s[1], s[3]);
          return Reply.notFound();
        });
  }

  private Reply create(Incoming in, String channelId) {
    Optional<Reply> refused =
        permissions(channelId, in)
            .or(() -> Uploads.check(in.files(), world.attachmentSizeLimit))
            .or(() -> MessageRules.check(in.json(), in.files().size(), true));
    if (refused.isPresent()) return refused.get();
    int type = in.json().has("message_reference") ? 19 : 0;
    ObjectNode message =
        store.create(channelId, world.config.botUserId(), type, in.json(), in.files());
    write(Kind.CHANNEL_MESSAGE, in, message);
    return Reply.ok(message.deepCopy());
  }

  private Reply message(Incoming in, String channelId, String messageId) {
    ObjectNode message = world.messages.get(messageId);
    if (message == null
        || !message.path("channel_id").asText().equals(channelId)
        || (message.path("flags").asInt() & MessageStore.EPHEMERAL) != 0) {
      return Reply.error(404, "Unknown Message", 10008);
    }
    boolean own = message.path("author").path("id").asText().equals(world.config.botUserId());
    return switch (in.method()) {
      case "GET" -> Reply.ok(asSeen(message, own));
      case "DELETE" -> {
        world.messages.remove(messageId);
        yield Reply.noContent();
      }
      case "PATCH" ->
          own
              ? edit(in, message)
              : Reply.error(403, "Cannot edit a message authored by another user", 50005);
      default -> Reply.methodNotAllowed();
    };
  }

  /**
   * A message as the bot may read it. Without the privileged Message Content intent Discord empties
   * the content, embeds, attachments and components of other users' messages, except in DMs and
   * where the bot is mentioned.
   */
  private ObjectNode asSeen(ObjectNode message, boolean own) {
    ObjectNode copy = message.deepCopy();
    boolean dm = world.dmUserByChannel.containsKey(message.path("channel_id").asText());
    boolean mentioned = false;
    for (var user : message.path("mentions")) {
      mentioned |= user.path("id").asText().equals(world.config.botUserId());
    }
    if (world.config.messageContentIntent() || own || dm || mentioned) return copy;
    copy.put("content", "");
    copy.putArray("embeds");
    copy.putArray("attachments");
    copy.putArray("components");
    return copy;
  }

  private Reply edit(Incoming in, ObjectNode message) {
    Optional<Reply> refused =
        Uploads.check(in.files(), world.attachmentSizeLimit)
            .or(() -> MessageRules.check(in.json(), in.files().size(), false));
    if (refused.isPresent()) return refused.get();
    store.edit(message, in.json(), in.files());
    write(Kind.CHANNEL_EDIT, in, message);
    return Reply.ok(message.deepCopy());
  }

  /** In a guild channel the bot needs to see it, send, and attach files when it uploads. */
  private Optional<Reply> permissions(String channelId, Incoming in) {
    Optional<Guilds.Guild> guild = world.guilds.guildOfChannel(channelId);
    if (guild.isEmpty()) return Optional.empty();
    long bits = guild.get().permissions(world.config.botUserId());
    if ((bits & DiscordRole.VIEW_CHANNEL) == 0)
      return Optional.of(Reply.error(403, "Missing Access", 50001));
    boolean files = !in.files().isEmpty();
    if ((bits & DiscordRole.SEND_MESSAGES) == 0
        || (files && (bits & DiscordRole.ATTACH_FILES) == 0)) {
      return Optional.of(Reply.error(403, "Missing Permissions", 50013));
    }
    return Optional.empty();
  }

  /** {@code POST /users/@me/channels} with {@code recipient_id}: the DM channel with that user. */
  Reply openDm(Incoming in) {
    if (!in.method().equals("POST")) return Reply.methodNotAllowed();
    String recipient = in.json().path("recipient_id").asText("");
    if (!recipient.matches("[1-9][0-9]{0,19}"))
      return Reply.error(400, "Invalid Recipient(s)", 50033);
    return world.locked(
        () -> Reply.ok(world.shapes.dmChannel(world.dmChannel(recipient), recipient)));
  }

  private void write(Kind kind, Incoming in, ObjectNode message) {
    recorder.message(
        new DiscordMessage(
            kind,
            message.get("id").asText(),
            message.get("channel_id").asText(),
            null,
            in.json(),
            in.files(),
            message));
  }
}
