package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.testkit.DiscordCallback;
import dev.fluxbot.testkit.DiscordMessage;
import dev.fluxbot.testkit.DiscordMessage.Kind;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Interaction responses ({@code /interactions/{id}/{token}/callback}) and the interaction webhook
 * ({@code /webhooks/{app}/{token}…}): the 3-second window to respond, the 15-minute token, the
 * deferred "thinking" message, follow-ups. Discord's answers and error codes throughout.
 */
final class InteractionRoutes {
  static final Duration RESPONSE_WINDOW = Duration.ofSeconds(3);
  static final Duration TOKEN_LIFETIME = Duration.ofMinutes(15);

  private final World world;
  private final MessageStore store;
  private final Recorder recorder;

  InteractionRoutes(World world, MessageStore store, Recorder recorder) {
    this.world = world;
    this.store = store;
    this.recorder = recorder;
  }

  /** {@code POST /interactions/{id}/{token}/callback}. */
  Reply callback(Incoming in, String id, String token) {
    if (!in.method().equals("POST")) return Reply.methodNotAllowed();
    return world.locked(
        () -> {
          Issued issued = world.interactionsById.get(id);
          if (issued == null
              || !issued.token.equals(token)
              || age(issued).compareTo(RESPONSE_WINDOW) > 0) {
            return Reply.error(404, "Unknown interaction", 10062);
          }
          if (issued.isAcknowledged())
            return Reply.error(400, "Interaction has already been acknowledged.", 40060);
          int type = in.json().path("type").asInt();
          JsonNode data = in.json().path("data");
          Optional<Reply> refused = invalidType(issued, type).or(() -> invalidData(type, data, in));
          return refused.orElseGet(() -> respond(in, issued, type, data));
        });
  }

  private Reply respond(Incoming in, Issued issued, int type, JsonNode data) {
    ObjectNode message =
        switch (type) {
          case DiscordCallback.CHANNEL_MESSAGE_WITH_SOURCE -> reply(issued, data, in);
          case DiscordCallback.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE ->
              reply(
                  issued,
                  Json.object()
                      .put(
                          "flags",
                          MessageStore.LOADING
                              | (data.path("flags").asInt() & MessageStore.EPHEMERAL)),
                  in);
          case DiscordCallback.DEFERRED_UPDATE_MESSAGE -> source(issued);
          case DiscordCallback.UPDATE_MESSAGE -> store.edit(source(issued), data, in.files());
          default -> null;
        };
    issued.callbackType = type;
    if (message != null) issued.originalMessageId = message.get("id").asText();
    boolean withResponse = in.query("with_response").map(Boolean::parseBoolean).orElse(false);
    int status = withResponse ? 200 : 204;
    recorder.callback(
        new DiscordCallback(
            issued.id,
            issued.token,
            type,
            data.isMissingNode() ? data : data.deepCopy(),
            in.files(),
            in.record(status)));
    if (message != null
        && (type == DiscordCallback.CHANNEL_MESSAGE_WITH_SOURCE
            || type == DiscordCallback.UPDATE_MESSAGE)) {
      write(Kind.CALLBACK, issued, data, in, message);
    }
    return withResponse ? Reply.ok(callbackResponse(issued, type, message)) : Reply.noContent();
  }

  private ObjectNode reply(Issued issued, JsonNode data, Incoming in) {
    ObjectNode message =
        store.create(
            issued.channelId, world.config.botUserId(), issued.replyMessageType, data, in.files());
    return interactionMessage(message, issued, null);
  }

  private ObjectNode source(Issued issued) {
    return store.get(issued.sourceMessageId).orElseThrow();
  }

  private ObjectNode interactionMessage(ObjectNode message, Issued issued, String originalId) {
    message
        .put("webhook_id", world.config.applicationId())
        .put("application_id", world.config.applicationId());
    ObjectNode metadata =
        message.putObject("interaction_metadata").put("id", issued.id).put("type", issued.type);
    metadata.set("user", world.shapes.user(issued.userId));
    metadata.set(
        "authorizing_integration_owners",
        issued.payload.path("authorizing_integration_owners").deepCopy());
    if (issued.type == 2) {
      metadata
          .put("name", issued.payload.path("data").path("name").asText())
          .put("command_type", issued.payload.path("data").path("type").asInt(1));
    }
    if (issued.sourceMessageId != null)
      metadata.put("interacted_message_id", issued.sourceMessageId);
    if (originalId != null) metadata.put("original_response_message_id", originalId);
    return message;
  }

  private ObjectNode callbackResponse(Issued issued, int type, ObjectNode message) {
    ObjectNode body = Json.object();
    ObjectNode interaction =
        body.putObject("interaction")
            .put("id", issued.id)
            .put("type", issued.type)
            .putNull("activity_instance_id");
    if (message != null) {
      int flags = message.path("flags").asInt();
      interaction
          .put("response_message_id", message.get("id").asText())
          .put("response_message_loading", (flags & MessageStore.LOADING) != 0)
          .put("response_message_ephemeral", (flags & MessageStore.EPHEMERAL) != 0);
    }
    ObjectNode resource = body.putObject("resource").put("type", type);
    if (message != null && type != DiscordCallback.DEFERRED_UPDATE_MESSAGE)
      resource.set("message", message.deepCopy());
    return body;
  }

  private Optional<Reply> invalidType(Issued issued, int type) {
    boolean fromMessage = issued.sourceMessageId != null;
    boolean allowed =
        switch (type) {
          case 4, 5 -> issued.type == 2 || issued.type == 3 || issued.type == 5;
          case 6, 7 -> issued.type == 3 || (issued.type == 5 && fromMessage);
          case 8 -> issued.type == 4;
          case 9 -> issued.type == 2 || issued.type == 3;
          default -> false;
        };
    if (allowed) return Optional.empty();
    FormErrors errors = new FormErrors();
    errors.add(
        List.of("type"),
        "INTERACTION_CALLBACK_TYPE_INVALID",
        "Callback type " + type + " is not allowed for an interaction of type " + issued.type);
    return Optional.of(errors.reply());
  }

  private Optional<Reply> invalidData(int type, JsonNode data, Incoming in) {
    if (type == DiscordCallback.MODAL) return modalErrors(data);
    if (type != DiscordCallback.CHANNEL_MESSAGE_WITH_SOURCE
        && type != DiscordCallback.UPDATE_MESSAGE) {
      return Optional.empty();
    }
    return Uploads.check(in.files(), world.attachmentSizeLimit)
        .or(
            () ->
                MessageRules.check(
                    data, in.files().size(), type == DiscordCallback.CHANNEL_MESSAGE_WITH_SOURCE));
  }

  private static Optional<Reply> modalErrors(JsonNode data) {
    FormErrors errors = new FormErrors();
    List<String> at = List.of("data");
    if (!data.hasNonNull("custom_id"))
      errors.add(
          MessageRules.plus(at, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required");
    MessageRules.maxText(data.path("custom_id"), 100, MessageRules.plus(at, "custom_id"), errors);
    if (!data.hasNonNull("title"))
      errors.add(MessageRules.plus(at, "title"), "BASE_TYPE_REQUIRED", "This field is required");
    MessageRules.maxText(data.path("title"), 45, MessageRules.plus(at, "title"), errors);
    int size = data.path("components").size();
    if (size < 1 || size > 5) {
      errors.add(
          MessageRules.plus(at, "components"),
          "BASE_TYPE_BAD_LENGTH",
          "Must be between 1 and 5 in length.");
    }
    return errors.isEmpty() ? Optional.empty() : Optional.of(errors.reply());
  }

  /** {@code /webhooks/{app}/{token}} and {@code /webhooks/{app}/{token}/messages/{id}}. */
  Reply webhook(Incoming in, String[] s) {
    if (!s[1].equals(world.config.applicationId()))
      return Reply.error(404, "Unknown Webhook", 10015);
    String token = s[2];
    if (s.length == 3)
      return in.method().equals("POST") ? followup(in, token) : Reply.methodNotAllowed();
    if (s.length == 5 && s[3].equals("messages")) return message(in, token, s[4]);
    return Reply.notFound();
  }

  private Reply followup(Incoming in, String token) {
    return world.locked(
        () -> {
          Issued issued = usable(token);
          if (issued == null) return invalidToken();
          if (!issued.isAcknowledged()) return Reply.error(404, "Unknown Webhook", 10015);
          Optional<Reply> refused =
              Uploads.check(in.files(), world.attachmentSizeLimit)
                  .or(() -> MessageRules.check(in.json(), in.files().size(), true));
          if (refused.isPresent()) return refused.get();
          ObjectNode original =
              issued.originalMessageId == null
                  ? null
                  : world.messages.get(issued.originalMessageId);
          ObjectNode message;
          if (original != null && (original.path("flags").asInt() & MessageStore.LOADING) != 0) {
            // The first follow-up after a deferred reply replaces the "thinking" message.
            message = store.edit(original, in.json(), in.files());
          } else {
            message =
                interactionMessage(
                    store.create(
                        issued.channelId, world.config.botUserId(), 0, in.json(), in.files()),
                    issued,
                    issued.originalMessageId);
            issued.followupIds.add(message.get("id").asText());
          }
          write(Kind.FOLLOWUP, issued, in.json(), in, message);
          return Reply.ok(message.deepCopy());
        });
  }

  private Reply message(Incoming in, String token, String messageId) {
    return world.locked(
        () -> {
          Issued issued = usable(token);
          if (issued == null) return invalidToken();
          String id = messageId.equals("@original") ? issued.originalMessageId : messageId;
          boolean known =
              id != null
                  && (id.equals(issued.originalMessageId) || issued.followupIds.contains(id));
          ObjectNode message = known ? world.messages.get(id) : null;
          if (message == null) return Reply.error(404, "Unknown Message", 10008);
          return switch (in.method()) {
            case "GET" -> Reply.ok(message.deepCopy());
            case "DELETE" -> {
              world.messages.remove(id);
              yield Reply.noContent();
            }
            case "PATCH" -> edit(in, issued, message, id.equals(issued.originalMessageId));
            default -> Reply.methodNotAllowed();
          };
        });
  }

  private Reply edit(Incoming in, Issued issued, ObjectNode message, boolean original) {
    Optional<Reply> refused =
        Uploads.check(in.files(), world.attachmentSizeLimit)
            .or(() -> MessageRules.check(in.json(), in.files().size(), false));
    if (refused.isPresent()) return refused.get();
    store.edit(message, in.json(), in.files());
    write(original ? Kind.ORIGINAL_EDIT : Kind.FOLLOWUP_EDIT, issued, in.json(), in, message);
    return Reply.ok(message.deepCopy());
  }

  /**
   * The interaction of a token, or null when it was never issued or is older than 15 minutes on the
   * fake's clock.
   */
  private Issued usable(String token) {
    Issued issued = world.interactionsByToken.get(token);
    return issued == null || age(issued).compareTo(TOKEN_LIFETIME) > 0 ? null : issued;
  }

  private static Reply invalidToken() {
    return Reply.error(401, "Invalid Webhook Token", 50027);
  }

  private Duration age(Issued issued) {
    return Duration.between(issued.issuedAt, world.clock.instant());
  }

  private void write(Kind kind, Issued issued, JsonNode payload, Incoming in, ObjectNode message) {
    recorder.message(
        new DiscordMessage(
            kind,
            message.get("id").asText(),
            message.get("channel_id").asText(),
            issued.token,
            payload.isMissingNode() ? MissingNode.getInstance() : payload,
            in.files(),
            message));
  }
}
