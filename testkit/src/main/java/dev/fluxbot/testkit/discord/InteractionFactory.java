package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.testkit.DiscordAttachment;
import dev.fluxbot.testkit.DiscordCallback;
import dev.fluxbot.testkit.DiscordContext;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordMention;
import dev.fluxbot.testkit.DiscordRole;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Builds {@code INTERACTION_CREATE} payloads as Discord sends them (a fresh snowflake, a token, the
 * guild, channel and member or the DM user, permissions, the integration owners, {@code data}) and
 * registers each, so the REST routes know its token. Call with the world's lock held.
 */
final class InteractionFactory {
  private static final long DM_PERMISSIONS =
      DiscordRole.VIEW_CHANNEL
          | DiscordRole.SEND_MESSAGES
          | DiscordRole.EMBED_LINKS
          | DiscordRole.ATTACH_FILES
          | DiscordRole.READ_MESSAGE_HISTORY
          | DiscordRole.ADD_REACTIONS
          | DiscordRole.USE_EXTERNAL_EMOJIS
          | DiscordRole.USE_APPLICATION_COMMANDS;

  private final World world;
  private final Recorder recorder;
  private final AtomicLong tokens = new AtomicLong();

  InteractionFactory(World world, Recorder recorder) {
    this.world = world;
    this.recorder = recorder;
  }

  /**
   * @param command the full name: {@code imagine}, or {@code fluxbot-admin quota set} with a group
   *     and subcommand
   */
  DiscordInteraction slashCommand(DiscordContext where, String command, Map<String, ?> options) {
    String[] path = command.trim().split("\\s+");
    Optional<ObjectNode> registered = registered(where, 1, path[0]);
    ObjectNode data = commandData(registered, path[0], 1, where);
    SlashOptions built = new SlashOptions(world, where, registered, path);
    options.forEach(built::add);
    built.finish(data);
    return issue(where, DiscordInteraction.APPLICATION_COMMAND, data, null, 20);
  }

  DiscordInteraction messageContextMenu(DiscordContext where, String name, String targetMessageId) {
    ObjectNode target = messageIn(where, targetMessageId);
    ObjectNode data =
        commandData(registered(where, 3, name), name, 3, where).put("target_id", targetMessageId);
    data.putObject("resolved").putObject("messages").set(targetMessageId, target.deepCopy());
    return issue(where, DiscordInteraction.APPLICATION_COMMAND, data, null, 23);
  }

  DiscordInteraction button(DiscordContext where, String messageId, String customId) {
    ObjectNode message = messageIn(where, messageId);
    JsonNode button =
        findComponent(message.path("components"), customId)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "Message "
                            + messageId
                            + " has no component with custom_id \""
                            + customId
                            + "\"; its custom ids are "
                            + MessageRules.customIds(message.path("components"))));
    ObjectNode data =
        Json.object()
            .put("custom_id", customId)
            .put("component_type", button.path("type").asInt(2));
    if (button.has("id")) data.put("id", button.get("id").asInt());
    return issue(where, DiscordInteraction.MESSAGE_COMPONENT, data, messageId, 0);
  }

  DiscordInteraction modalSubmit(
      DiscordContext where, String customId, Map<String, String> fields) {
    Optional<DiscordCallback> shown =
        recorder.callbacks().reversed().stream()
            .filter(
                c ->
                    c.type() == DiscordCallback.MODAL
                        && c.data().path("custom_id").asText().equals(customId))
            .findFirst();
    ArrayNode components =
        shown
            .map(c -> ModalAnswers.fill(c.data().path("components"), fields))
            .orElseGet(() -> ModalAnswers.labels(fields));
    ObjectNode data = Json.object().put("custom_id", customId);
    data.set("components", components);
    String sourceMessageId =
        shown
            .map(c -> world.interactionsById.get(c.interactionId()))
            .map(i -> i.sourceMessageId)
            .orElse(null);
    return issue(where, DiscordInteraction.MODAL_SUBMIT, data, sourceMessageId, 0);
  }

  private Optional<ObjectNode> registered(DiscordContext where, int type, String name) {
    String key = type + ":" + name;
    if (where.guildId() != null) {
      ObjectNode guildCommand = world.commands(where.guildId()).get(key);
      if (guildCommand != null) return Optional.of(guildCommand);
    }
    return Optional.ofNullable(world.commands("").get(key));
  }

  private ObjectNode commandData(
      Optional<ObjectNode> registered, String name, int type, DiscordContext where) {
    String scope = registered.map(c -> c.path("guild_id").asText("")).orElse("");
    String id =
        registered
            .map(c -> c.path("id").asText())
            .orElseGet(() -> world.commandId("", type + ":" + name));
    ObjectNode data = Json.object().put("id", id).put("name", name).put("type", type);
    if (!scope.isEmpty()) data.put("guild_id", scope);
    return data;
  }

  private ObjectNode messageIn(DiscordContext where, String messageId) {
    String channelId = channelOf(where);
    ObjectNode message = world.messages.get(messageId);
    if (message == null || !message.path("channel_id").asText().equals(channelId)) {
      throw new IllegalArgumentException(
          "There is no message "
              + messageId
              + " in channel "
              + channelId
              + "; messages there are "
              + world.messages.values().stream()
                  .filter(m -> m.path("channel_id").asText().equals(channelId))
                  .map(m -> m.path("id").asText())
                  .toList());
    }
    return message;
  }

  private static Optional<JsonNode> findComponent(JsonNode node, String customId) {
    if (node.isObject() && node.path("custom_id").asText("").equals(customId))
      return Optional.of(node);
    for (JsonNode child : node) {
      Optional<JsonNode> found = findComponent(child, customId);
      if (found.isPresent()) return found;
    }
    return Optional.empty();
  }

  String channelOf(DiscordContext where) {
    return where.isDm() ? world.dmChannel(where.userId()) : where.channelId();
  }

  private DiscordInteraction issue(
      DiscordContext where,
      int type,
      ObjectNode data,
      String sourceMessageId,
      int replyMessageType) {
    String id = world.ids.next();
    String token = token(id);
    ObjectNode payload = envelope(where, id, token, type);
    payload.set("data", data);
    if (sourceMessageId != null)
      payload.set("message", world.messages.get(sourceMessageId).deepCopy());
    String channelId = payload.get("channel_id").asText();
    Issued issued =
        new Issued(
            id,
            token,
            type,
            channelId,
            where.guildId(),
            where.userId(),
            world.clock.instant(),
            sourceMessageId,
            replyMessageType,
            payload);
    world.interactionsById.put(id, issued);
    world.interactionsByToken.put(token, issued);
    return new DiscordInteraction(
        id, token, type, channelId, where.guildId(), where.userId(), payload);
  }

  private ObjectNode envelope(DiscordContext where, String id, String token, int type) {
    ObjectNode p =
        Json.object()
            .put("id", id)
            .put("application_id", world.config.applicationId())
            .put("type", type)
            .put("token", token)
            .put("version", 1);
    if (where.isDm()) {
      String channelId = world.dmChannel(where.userId());
      p.put("channel_id", channelId);
      p.set("channel", world.shapes.dmChannel(channelId, world.config.botUserId()));
      p.set("user", world.shapes.user(where.userId()));
      p.put("app_permissions", Long.toString(DM_PERMISSIONS)).put("context", 1);
      p.putObject("authorizing_integration_owners").put("0", "0");
    } else {
      Guilds.Guild guild =
          world
              .guilds
              .guild(where.guildId())
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "The fake has no guild "
                              + where.guildId()
                              + "; its guilds are "
                              + world.guilds.all().stream().map(g -> g.config().id()).toList()));
      if (!guild.config().textChannelIds().contains(where.channelId())) {
        throw new IllegalArgumentException(
            "Guild "
                + where.guildId()
                + " has no text channel "
                + where.channelId()
                + "; its channels are "
                + guild.config().textChannelIds());
      }
      p.put("guild_id", guild.config().id()).put("guild_locale", "en-US");
      p.putObject("guild")
          .put("id", guild.config().id())
          .put("locale", "en-US")
          .putArray("features");
      p.put("channel_id", where.channelId());
      p.set(
          "channel",
          world
              .shapes
              .textChannel(guild, where.channelId())
              .put("permissions", Long.toString(guild.permissions(where.userId()))));
      p.set("member", world.shapes.interactionMember(guild, where.userId(), world.clock.instant()));
      p.put("app_permissions", Long.toString(guild.permissions(world.config.botUserId())))
          .put("context", 0);
      p.putObject("authorizing_integration_owners").put("0", guild.config().id());
    }
    p.put("locale", where.locale()).put("attachment_size_limit", world.attachmentSizeLimit);
    p.putArray("entitlements");
    p.putArray("entitlement_sku_ids");
    return p;
  }

  /**
   * Like Discord's: base64url of {@code interaction:<id>:…}, so every token starts with {@code
   * aW50ZXJhY3Rpb246}.
   */
  private String token(String id) {
    String raw = "interaction:" + id + ":" + tokens.incrementAndGet() + ":fake-discord-testkit";
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The options of one slash command invocation, typed by the registered command where there is
   * one.
   */
  private static final class SlashOptions {
    private final World world;
    private final DiscordContext where;
    private final String[] path;
    private final JsonNode definitions;
    private final ArrayNode values = Json.array();
    private final ObjectNode resolved = Json.object();

    SlashOptions(
        World world, DiscordContext where, Optional<ObjectNode> registered, String[] path) {
      this.world = world;
      this.where = where;
      this.path = path;
      this.definitions = registered.map(c -> definitionsAt(c, path)).orElse(null);
    }

    private static JsonNode definitionsAt(ObjectNode command, String[] path) {
      JsonNode options = command.path("options");
      for (int i = 1; i < path.length; i++) {
        String name = path[i];
        options =
            find(options, name)
                .orElseThrow(
                    () ->
                        new IllegalArgumentException(
                            "Command /" + path[0] + " has no subcommand or group \"" + name + "\""))
                .path("options");
      }
      return options;
    }

    void add(String name, Object value) {
      int type =
          definitions == null
              ? inferType(value)
              : find(definitions, name)
                  .map(d -> d.path("type").asInt())
                  .orElseThrow(
                      () ->
                          new IllegalArgumentException(
                              "Command /"
                                  + String.join(" ", path)
                                  + " has no option \""
                                  + name
                                  + "\"; its options are "
                                  + names(definitions)));
      ObjectNode option = values.addObject().put("name", name).put("type", type);
      switch (type) {
        case 4 ->
            option.put(
                "value",
                value instanceof Number n ? n.longValue() : Long.parseLong(value.toString()));
        case 10 ->
            option.put(
                "value",
                value instanceof Number n ? n.doubleValue() : Double.parseDouble(value.toString()));
        case 5 ->
            option.put(
                "value",
                value instanceof Boolean b
                    ? b.booleanValue()
                    : Boolean.parseBoolean(value.toString()));
        case 6, 7, 8, 9 -> option.put("value", resolve(value));
        case 11 -> option.put("value", attachment(value));
        default -> option.put("value", value.toString());
      }
    }

    void finish(ObjectNode data) {
      if (definitions != null) {
        for (JsonNode d : definitions) {
          if (d.path("required").asBoolean() && find(values, d.path("name").asText()).isEmpty()) {
            throw new IllegalArgumentException(
                "Command /"
                    + String.join(" ", path)
                    + " requires option \""
                    + d.path("name").asText()
                    + "\"; Discord's client would not send it without one");
          }
        }
      }
      JsonNode options = values;
      for (int i = path.length - 1; i >= 1; i--) {
        ObjectNode wrapper =
            Json.object().put("name", path[i]).put("type", i == path.length - 1 ? 1 : 2);
        wrapper.set("options", options);
        options = Json.array().add(wrapper);
      }
      data.set("options", options);
      if (!resolved.isEmpty()) data.set("resolved", resolved);
    }

    private String attachment(Object value) {
      if (!(value instanceof DiscordAttachment a)) {
        throw new IllegalArgumentException(
            "An attachment option takes a DiscordAttachment from addAttachment(…). Provided: "
                + value);
      }
      with("attachments").set(a.id(), a.json());
      return a.id();
    }

    private String resolve(Object value) {
      DiscordMention mention =
          value instanceof DiscordMention m ? m : DiscordMention.user(value.toString());
      String id = mention.id();
      Optional<Guilds.Guild> guild = world.guilds.guild(where.guildId());
      switch (mention.type()) {
        case USER -> {
          with("users").set(id, world.shapes.user(id));
          guild
              .flatMap(g -> g.member(id))
              .ifPresent(
                  m ->
                      with("members")
                          .set(
                              id,
                              world
                                  .shapes
                                  .interactionMember(guild.get(), id, world.clock.instant())
                                  .without("user")));
        }
        case ROLE ->
            guild
                .flatMap(g -> g.role(id))
                .ifPresent(r -> with("roles").set(id, world.shapes.role(r, guild.get())));
        case CHANNEL ->
            world
                .channel(id)
                .ifPresent(
                    c ->
                        with("channels")
                            .set(
                                id,
                                c.put(
                                    "permissions",
                                    guild
                                        .map(g -> Long.toString(g.permissions(where.userId())))
                                        .orElse("0"))));
      }
      return id;
    }

    private ObjectNode with(String key) {
      return resolved.has(key) ? (ObjectNode) resolved.get(key) : resolved.putObject(key);
    }

    private static int inferType(Object value) {
      return switch (value) {
        case DiscordAttachment a -> 11;
        case DiscordMention m -> m.type().optionType();
        case Boolean b -> 5;
        case Integer i -> 4;
        case Long l -> 4;
        case Double d -> 10;
        case Float f -> 10;
        default -> 3;
      };
    }

    private static Optional<JsonNode> find(JsonNode options, String name) {
      for (JsonNode o : options) {
        if (o.path("name").asText().equals(name)) return Optional.of(o);
      }
      return Optional.empty();
    }

    private static List<String> names(JsonNode options) {
      List<String> names = new ArrayList<>();
      options.forEach(o -> names.add(o.path("name").asText()));
      return names;
    }
  }
}
