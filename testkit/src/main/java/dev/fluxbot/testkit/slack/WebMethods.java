package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.testkit.slack.WebApi.Refusal;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The Web API methods a bot uses, as Slack plays them: each reads its parameters, changes the
 * workspace and answers, or throws a {@link Refusal} with Slack's error code. {@link WebApi} runs
 * them under the state's lock and records them.
 */
final class WebMethods {
  private static final Duration TRIGGER_LIFE = Duration.ofSeconds(3);

  private final SlackEngine engine;
  private final SlackState state;

  WebMethods(SlackEngine engine) {
    this.engine = engine;
    this.state = engine.state();
  }

  ObjectNode call(String method, ObjectNode p) {
    return switch (method) {
      case "auth.test" ->
          WebApi.JSON
              .createObjectNode()
              .put("url", "https://" + engine.teamDomain() + ".slack.com/")
              .put("team", "Fluxbot Test Workspace")
              .put("user", "fluxbot")
              .put("team_id", engine.teamId())
              .put("user_id", engine.botUserId())
              .put("bot_id", engine.botId())
              .put("is_enterprise_install", false);
      case "apps.connections.open" ->
          WebApi.JSON
              .createObjectNode()
              .put("url", engine.socketUrl() + "?ticket=t" + state.next());
      case "chat.postMessage" -> postMessage(p);
      case "chat.update" -> update(p);
      case "chat.delete" -> delete(p);
      case "chat.postEphemeral" -> postEphemeral(p);
      case "views.open" -> viewsOpen(p);
      case "users.info" -> usersInfo(p);
      case "files.getUploadURLExternal" -> uploadUrl(p);
      case "files.completeUploadExternal" -> completeUpload(p);
      default -> throw new Refusal("unknown_method");
    };
  }

  private ObjectNode postMessage(ObjectNode p) {
    String channel = member(channel(p, "channel"));
    JsonNode blocks = BlockRules.checked(p);
    String text = p.path("text").asText("");
    if (text.isEmpty() && blocks.isMissingNode()) {
      throw new Refusal("no_text");
    }
    String thread = p.hasNonNull("thread_ts") ? p.get("thread_ts").asText() : null;
    SlackMessage m =
        state.update(
            () -> {
              if (thread != null && !state.messages.containsKey(channel + "/" + thread)) {
                throw new Refusal("thread_not_found");
              }
              SlackMessage made =
                  new SlackMessage(
                      channel,
                      engine.nextTs(),
                      thread,
                      engine.botUserId(),
                      text,
                      blocks,
                      List.of(),
                      null,
                      0);
              state.messages.put(channel + "/" + made.ts(), made);
              return made;
            });
    return WebApi.JSON
        .createObjectNode()
        .put("channel", channel)
        .put("ts", m.ts())
        .set("message", Payloads.message(m));
  }

  private ObjectNode update(ObjectNode p) {
    String channel = channel(p, "channel");
    String ts = required(p, "ts");
    JsonNode blocks = BlockRules.checked(p);
    String text = p.path("text").asText("");
    SlackMessage m =
        state.update(
            () -> {
              SlackMessage old = state.messages.get(channel + "/" + ts);
              if (old == null) {
                throw new Refusal("message_not_found");
              }
              if (!old.user().equals(engine.botUserId())) {
                throw new Refusal("cant_update_message");
              }
              SlackMessage made =
                  new SlackMessage(
                      channel,
                      ts,
                      old.threadTs(),
                      old.user(),
                      text,
                      p.has("blocks") ? blocks : old.blocks(),
                      old.files(),
                      null,
                      old.edits() + 1);
              state.messages.put(channel + "/" + ts, made);
              return made;
            });
    return WebApi.JSON
        .createObjectNode()
        .put("channel", channel)
        .put("ts", ts)
        .put("text", m.text())
        .set("message", Payloads.message(m));
  }

  /** A bot may delete its own messages; a user's answers {@code cant_delete_message}. */
  private ObjectNode delete(ObjectNode p) {
    String channel = channel(p, "channel");
    String ts = required(p, "ts");
    state.run(
        () -> {
          SlackMessage old = state.messages.get(channel + "/" + ts);
          if (old == null) {
            throw new Refusal("message_not_found");
          }
          if (!old.user().equals(engine.botUserId())) {
            throw new Refusal("cant_delete_message");
          }
          state.messages.remove(channel + "/" + ts);
        });
    return WebApi.JSON.createObjectNode().put("channel", channel).put("ts", ts);
  }

  private ObjectNode postEphemeral(ObjectNode p) {
    String channel = member(channel(p, "channel"));
    String user = user(required(p, "user"));
    JsonNode blocks = BlockRules.checked(p);
    String text = p.path("text").asText("");
    if (text.isEmpty() && blocks.isMissingNode()) {
      throw new Refusal("no_text");
    }
    String thread = p.hasNonNull("thread_ts") ? p.get("thread_ts").asText() : null;
    SlackMessage m =
        new SlackMessage(
            channel, engine.nextTs(), thread, engine.botUserId(), text, blocks, List.of(), user, 0);
    state.run(() -> state.ephemerals.add(m));
    return WebApi.JSON.createObjectNode().put("message_ts", m.ts());
  }

  private ObjectNode viewsOpen(ObjectNode p) {
    String trigger = required(p, "trigger_id");
    JsonNode view = json(p, "view");
    if (!"modal".equals(view.path("type").asText())) {
      throw new Refusal("invalid_arguments");
    }
    if (view.path("title").path("text").asText().length() > 24) {
      throw new Refusal("invalid_arguments"); // a modal's title is at most 24 characters
    }
    String id = "V" + String.format("%08d", state.next());
    ObjectNode stored =
        ((ObjectNode) view.deepCopy()).put("id", id).put("team_id", engine.teamId());
    state.update(
        () -> {
          java.time.Instant issued = state.triggers.remove(trigger);
          if (issued == null) {
            throw new Refusal("invalid_trigger_id");
          }
          if (engine.clock().instant().isAfter(issued.plus(TRIGGER_LIFE))) {
            throw new Refusal("expired_trigger_id");
          }
          state.views.put(id, new SlackView(id, trigger, engine.triggerUser(trigger), stored));
          return null;
        });
    return (ObjectNode) WebApi.JSON.createObjectNode().set("view", stored);
  }

  private ObjectNode usersInfo(ObjectNode p) {
    SlackUser u = state.read(() -> state.users.get(required(p, "user")));
    if (u == null) {
      throw new Refusal("user_not_found");
    }
    ObjectNode user =
        WebApi.JSON
            .createObjectNode()
            .put("id", u.id())
            .put("team_id", engine.teamId())
            .put("name", u.name())
            .put("real_name", u.name())
            .put("is_admin", u.admin())
            .put("is_owner", u.owner())
            .put("is_primary_owner", false)
            .put("is_bot", false)
            .put("deleted", false);
    user.putObject("profile").put("display_name", u.name()).put("real_name", u.name());
    String includeLocale = p.path("include_locale").asText();
    if (includeLocale.equals("true") || includeLocale.equals("1")) {
      user.put("locale", u.locale()); // only when asked for (true or 1), as Slack does
    }
    return (ObjectNode) WebApi.JSON.createObjectNode().set("user", user);
  }

  private ObjectNode uploadUrl(ObjectNode p) {
    String name = required(p, "filename");
    long length;
    try {
      length = Long.parseLong(required(p, "length"));
    } catch (NumberFormatException e) {
      throw new Refusal("invalid_arguments");
    }
    if (length < 1) {
      throw new Refusal("invalid_arguments");
    }
    String id = engine.nextFileId();
    state.run(
        () -> state.files.put(id, new SlackState.FileEntry(id, name, length, engine.botUserId())));
    return WebApi.JSON
        .createObjectNode()
        .put("upload_url", engine.baseUrl() + "/upload/v1/" + id)
        .put("file_id", id);
  }

  /**
   * Shares uploaded files. With {@code channel_id} the share is a message: its text is {@code
   * initial_comment}, or, without one, it carries {@code blocks} (checked like any message's);
   * Slack ignores blocks next to an initial comment, and a file shared nowhere has no message.
   */
  private ObjectNode completeUpload(ObjectNode p) {
    JsonNode files = json(p, "files");
    String channel = p.hasNonNull("channel_id") ? member(channel(p, "channel_id")) : null;
    String thread = p.hasNonNull("thread_ts") ? p.get("thread_ts").asText() : null;
    String comment = p.hasNonNull("initial_comment") ? p.get("initial_comment").asText() : null;
    JsonNode checked = BlockRules.checked(p);
    JsonNode blocks = comment == null ? checked : MissingNode.getInstance();
    if (!files.isArray() || files.isEmpty()) {
      throw new Refusal("invalid_arguments");
    }
    ArrayNode out = WebApi.JSON.createArrayNode();
    state.run(
        () -> {
          List<SlackFile> shared = new ArrayList<>();
          for (JsonNode f : files) {
            SlackState.FileEntry e = state.files.get(f.path("id").asText());
            if (e == null || e.bytes == null) {
              throw new Refusal("file_not_found");
            }
            if (e.channel != null) {
              throw new Refusal("file_already_completed");
            }
            e.title = f.path("title").asText(e.name);
            e.channel = channel;
            e.threadTs = thread;
            e.initialComment = comment;
            SlackFile file = engine.file(e);
            shared.add(file);
            out.add(Payloads.file(file));
          }
          if (channel != null) {
            SlackMessage m =
                new SlackMessage(
                    channel,
                    engine.nextTs(),
                    thread,
                    engine.botUserId(),
                    comment,
                    blocks,
                    shared,
                    null,
                    0);
            state.messages.put(channel + "/" + m.ts(), m);
          }
        });
    return (ObjectNode) WebApi.JSON.createObjectNode().set("files", out);
  }

  // --- reading parameters ---

  static String required(ObjectNode p, String name) {
    String v = p.path(name).asText("");
    if (v.isEmpty()) {
      throw new Refusal("invalid_arguments");
    }
    return v;
  }

  private String channel(ObjectNode p, String name) {
    String c = required(p, name);
    if (!state.read(() -> state.channels.contains(c))) {
      throw new Refusal("channel_not_found");
    }
    return c;
  }

  /** The bot must be in a channel to post there, as on Slack. */
  private String member(String channel) {
    if (state.read(() -> state.botAbsent.contains(channel))) {
      throw new Refusal("not_in_channel");
    }
    return channel;
  }

  private String user(String id) {
    if (!state.read(() -> state.users.containsKey(id))) {
      throw new Refusal("user_not_found");
    }
    return id;
  }

  /** A JSON parameter: form fields carry it as a string. */
  static JsonNode json(ObjectNode p, String name) {
    JsonNode v = p.get(name);
    if (v == null || v.isNull()) {
      throw new Refusal("invalid_arguments");
    }
    if (!v.isTextual()) {
      return v;
    }
    try {
      return WebApi.JSON.readTree(v.asText());
    } catch (IOException e) {
      throw new Refusal("invalid_arguments");
    }
  }
}
