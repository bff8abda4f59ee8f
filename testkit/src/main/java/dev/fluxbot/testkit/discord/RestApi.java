package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * Discord's REST API v10 below {@code /api/v10}: the routes JDA uses for a bot that answers
 * interactions. Interactions and webhooks go to {@link InteractionRoutes}, channels to {@link
 * ChannelRoutes}; users, the gateway, the application and its commands are here.
 */
final class RestApi {
  /**
   * The application flag of an unverified app with the Message Content intent switched on in the
   * portal.
   */
  private static final int GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19;

  private final World world;
  private final InteractionRoutes interactions;
  private final ChannelRoutes channels;
  private final Commands commands;
  private final String gatewayUrl;

  RestApi(World world, InteractionRoutes interactions, ChannelRoutes channels, String gatewayUrl) {
    this.world = world;
    this.interactions = interactions;
    this.channels = channels;
    this.commands = new Commands(world);
    this.gatewayUrl = gatewayUrl;
  }

  Reply respond(Incoming in) {
    String[] s = in.segments();
    if (s.length == 0) return Reply.notFound();
    boolean tokenRoute = s[0].equals("interactions") || s[0].equals("webhooks");
    if (!tokenRoute
        && !in.header("Authorization").orElse("").equals("Bot " + world.config.token())) {
      return Reply.unauthorized();
    }
    if (in.badJson()) return Reply.error(400, "The request body contains invalid JSON.", 50109);
    return switch (s[0]) {
      case "users" -> users(in, s);
      case "gateway" -> gateway(in, s);
      case "oauth2" ->
          s.length == 3 && s[1].equals("applications") && s[2].equals("@me")
              ? application(in)
              : Reply.notFound();
      case "applications" -> applications(in, s);
      case "interactions" ->
          s.length == 4 && s[3].equals("callback")
              ? interactions.callback(in, s[1], s[2])
              : Reply.notFound();
      case "webhooks" -> s.length >= 3 ? interactions.webhook(in, s) : Reply.notFound();
      case "channels" -> s.length >= 2 ? channels.channel(in, s) : Reply.notFound();
      default -> Reply.notFound();
    };
  }

  private Reply users(Incoming in, String[] s) {
    if (s.length == 3 && s[1].equals("@me") && s[2].equals("channels")) return channels.openDm(in);
    if (s.length != 2) return Reply.notFound();
    if (!in.method().equals("GET")) return Reply.methodNotAllowed();
    if (s[1].equals("@me")) return Reply.ok(world.shapes.selfUser());
    boolean known =
        world.guilds.all().stream().anyMatch(g -> g.member(s[1]).isPresent())
            || world.locked(() -> world.dmChannelByUser.containsKey(s[1]));
    return known ? Reply.ok(world.shapes.user(s[1])) : Reply.error(404, "Unknown User", 10013);
  }

  private Reply gateway(Incoming in, String[] s) {
    if (!in.method().equals("GET")) return Reply.methodNotAllowed();
    ObjectNode body = Json.object().put("url", gatewayUrl);
    if (s.length == 1) return Reply.ok(body);
    if (s.length != 2 || !s[1].equals("bot")) return Reply.notFound();
    body.put("shards", world.config.recommendedShards())
        .putObject("session_start_limit")
        .put("total", 1000)
        .put("remaining", 999)
        .put("reset_after", 14_400_000)
        .put("max_concurrency", world.config.maxConcurrency());
    return Reply.ok(body);
  }

  private Reply applications(Incoming in, String[] s) {
    if (s.length == 2 && s[1].equals("@me")) return application(in);
    if (s.length < 3) return Reply.notFound();
    if (!s[1].equals(world.config.applicationId()))
      return Reply.error(403, "Missing Access", 50001);
    if (s[2].equals("commands")) return commands.respond(in, "", s, 3);
    if (s.length >= 5 && s[2].equals("guilds") && s[4].equals("commands")) {
      if (world.guilds.guild(s[3]).isEmpty()) return Reply.error(404, "Unknown Guild", 10004);
      return commands.respond(in, s[3], s, 5);
    }
    return Reply.notFound();
  }

  private Reply application(Incoming in) {
    if (!in.method().equals("GET")) return Reply.methodNotAllowed();
    var config = world.config;
    ObjectNode app =
        Json.object()
            .put("id", config.applicationId())
            .put("name", config.botUsername())
            .putNull("icon")
            .put("description", "")
            .put("summary", "")
            .putNull("type")
            .put("bot_public", true)
            .put("bot_require_code_grant", false)
            .put("verify_key", "0".repeat(64))
            .put("flags", config.messageContentIntent() ? GATEWAY_MESSAGE_CONTENT_LIMITED : 0)
            .put("hook", true)
            .put("is_monetized", false)
            .put("approximate_guild_count", world.guilds.all().size());
    app.set(
        "owner",
        world.shapes.user(
            world.guilds.all().isEmpty()
                ? config.botUserId()
                : world.guilds.all().get(0).config().ownerId()));
    app.set("bot", world.shapes.user(config.botUserId()));
    app.putNull("team");
    app.putArray("redirect_uris");
    app.putArray("tags");
    ObjectNode install = app.putObject("integration_types_config");
    install
        .putObject("0")
        .putObject("oauth2_install_params")
        .put("permissions", "0")
        .putArray("scopes")
        .add("bot")
        .add("applications.commands");
    install.putObject("1");
    return Reply.ok(app);
  }

  /**
   * Command registration, global (scope "") or per guild; a command keeps its id across
   * registrations.
   */
  static final class Commands {
    private final World world;

    Commands(World world) {
      this.world = world;
    }

    /**
     * @param base where the segments after {@code …/commands} start
     */
    Reply respond(Incoming in, String scope, String[] s, int base) {
      if (s.length == base) {
        return switch (in.method()) {
          case "GET" -> world.locked(() -> Reply.ok(list(scope)));
          case "PUT" -> put(scope, in.json());
          case "POST" -> post(scope, in.json());
          default -> Reply.methodNotAllowed();
        };
      }
      if (s.length != base + 1) return Reply.notFound();
      return world.locked(() -> one(in, scope, s[base]));
    }

    private Reply put(String scope, JsonNode body) {
      if (!body.isArray()) return Reply.error(400, "Invalid Form Body", 50035);
      FormErrors errors = CommandRules.check(body);
      if (!errors.isEmpty()) return errors.reply();
      return world.locked(
          () -> {
            Map<String, ObjectNode> registered = world.commands(scope);
            registered.clear();
            body.forEach(command -> register(scope, command));
            return Reply.ok(list(scope));
          });
    }

    private Reply post(String scope, JsonNode command) {
      FormErrors errors = new FormErrors();
      CommandRules.command(command, List.of(), errors);
      if (!errors.isEmpty()) return errors.reply();
      return world.locked(() -> Reply.json(201, register(scope, command).deepCopy()));
    }

    private Reply one(Incoming in, String scope, String commandId) {
      Map<String, ObjectNode> registered = world.commands(scope);
      var entry =
          registered.entrySet().stream()
              .filter(e -> e.getValue().path("id").asText().equals(commandId))
              .findFirst();
      if (entry.isEmpty()) return Reply.error(404, "Unknown application command", 10063);
      return switch (in.method()) {
        case "GET" -> Reply.ok(entry.get().getValue().deepCopy());
        case "DELETE" -> {
          registered.remove(entry.get().getKey());
          yield Reply.noContent();
        }
        default -> Reply.methodNotAllowed();
      };
    }

    private ObjectNode register(String scope, JsonNode request) {
      ObjectNode command = request.deepCopy();
      int type = command.path("type").asInt(1);
      String key = type + ":" + command.path("name").asText();
      command
          .put("id", world.commandId(scope, key))
          .put("application_id", world.config.applicationId())
          .put("version", world.ids.next())
          .put("type", type);
      if (!command.has("description")) command.put("description", "");
      if (!command.has("default_member_permissions")) command.putNull("default_member_permissions");
      if (!command.has("nsfw")) command.put("nsfw", false);
      if (!scope.isEmpty()) command.put("guild_id", scope);
      world.commands(scope).put(key, command);
      return command;
    }

    private ArrayNode list(String scope) {
      ArrayNode list = Json.array();
      world.commands(scope).values().forEach(c -> list.add(c.deepCopy()));
      return list;
    }
  }
}
