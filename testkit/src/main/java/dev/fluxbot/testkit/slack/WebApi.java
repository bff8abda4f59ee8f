package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Slack over HTTP: the Web API below {@code /api/}, the upload URLs {@code
 * files.getUploadURLExternal} hands out, private file downloads (bot token in the Authorization
 * header) and response URLs. Web API errors are HTTP 200 with {@code ok: false} and an {@code
 * error} code, as on Slack; a scripted rate limit answers 429 with {@code Retry-After}.
 */
final class WebApi implements HttpHandler {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TRIGGER_LIFE = Duration.ofSeconds(3);
  private static final Duration RESPONSE_URL_LIFE = Duration.ofMinutes(30);
  private static final int RESPONSE_URL_USES = 5;

  /** An error answer: Slack's {@code error} code, or an HTTP status for the non-API routes. */
  static final class Refusal extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String code;
    final int status;

    Refusal(String code) {
      this(code, 200);
    }

    Refusal(String code, int status) {
      super(code, null, false, false);
      this.code = code;
      this.status = status;
    }
  }

  private final SlackEngine engine;
  private final SlackState state;

  WebApi(SlackEngine engine) {
    this.engine = engine;
    this.state = engine.state();
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      byte[] body = exchange.getRequestBody().readAllBytes();
      if (path.startsWith("/api/")) {
        api(exchange, path.substring("/api/".length()), body);
      } else if (path.startsWith("/upload/v1/") && exchange.getRequestMethod().equals("POST")) {
        upload(exchange, path.substring("/upload/v1/".length()), body);
      } else if (path.startsWith("/files-pri/") && exchange.getRequestMethod().equals("GET")) {
        download(exchange, path);
      } else if (path.startsWith("/response/") && exchange.getRequestMethod().equals("POST")) {
        responseUrl(exchange, path.substring("/response/".length()), body);
      } else {
        send(
            exchange,
            404,
            "text/plain",
            ("FakeSlack: no route " + path).getBytes(StandardCharsets.UTF_8));
      }
    } catch (RuntimeException e) {
      e.printStackTrace();
      throw e;
    }
  }

  // --- the Web API ---

  private void api(HttpExchange exchange, String method, byte[] body) throws IOException {
    ObjectNode params = params(exchange, body);
    String token = bearer(exchange);
    if (token == null && params.hasNonNull("token")) {
      token = params.get("token").asText();
    }
    params.remove("token");
    if (rateLimited(method)) {
      int retryAfter = state.read(() -> state.rateLimits.get(method).retryAfterSeconds());
      state.run(
          () ->
              state.calls.add(
                  new SlackCall(
                      method, params, true, 429, "ratelimited", engine.clock().instant())));
      exchange.getResponseHeaders().set("Retry-After", String.valueOf(retryAfter));
      sendJson(exchange, 429, JSON.createObjectNode().put("ok", false).put("error", "ratelimited"));
      return;
    }
    boolean authorized = authorized(method, token);
    String presented = token;
    // The call's effect and its record are made under one hold of the lock, so a test that sees the
    // effect (an edited message) also sees the call in calls().
    ObjectNode out =
        state.update(
            () -> {
              ObjectNode answer;
              String error = null;
              try {
                if (presented == null) {
                  throw new Refusal("not_authed");
                }
                if (!authorized) {
                  throw new Refusal(
                      presented.equals(engine.appToken()) || presented.equals(engine.botToken())
                          ? "not_allowed_token_type"
                          : "invalid_auth");
                }
                answer = call(method, params);
                answer.put("ok", true);
              } catch (Refusal r) {
                error = r.code;
                answer = JSON.createObjectNode().put("ok", false).put("error", r.code);
              }
              state.calls.add(
                  new SlackCall(method, params, authorized, 200, error, engine.clock().instant()));
              return answer;
            });
    sendJson(exchange, 200, out);
  }

  private boolean rateLimited(String method) {
    return state.update(
        () -> {
          SlackState.RateLimit r = state.rateLimits.get(method);
          if (r == null || r.remaining() <= 0) {
            return false;
          }
          state.rateLimits.put(
              method, new SlackState.RateLimit(r.remaining() - 1, r.retryAfterSeconds()));
          return true;
        });
  }

  private boolean authorized(String method, String token) {
    if (token == null) {
      return false;
    }
    if (method.equals("apps.connections.open")) {
      return token.equals(engine.appToken());
    }
    return token.equals(engine.botToken())
        || (method.equals("auth.test") && token.equals(engine.appToken()));
  }

  private ObjectNode call(String method, ObjectNode p) {
    return switch (method) {
      case "auth.test" ->
          JSON.createObjectNode()
              .put("url", "https://" + engine.teamDomain() + ".slack.com/")
              .put("team", "Fluxbot Test Workspace")
              .put("user", "fluxbot")
              .put("team_id", engine.teamId())
              .put("user_id", engine.botUserId())
              .put("bot_id", engine.botId())
              .put("is_enterprise_install", false);
      case "apps.connections.open" ->
          JSON.createObjectNode().put("url", engine.socketUrl() + "?ticket=t" + state.next());
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
    JsonNode blocks = blocks(p);
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
    return JSON.createObjectNode()
        .put("channel", channel)
        .put("ts", m.ts())
        .set("message", Payloads.message(m));
  }

  private ObjectNode update(ObjectNode p) {
    String channel = channel(p, "channel");
    String ts = required(p, "ts");
    JsonNode blocks = blocks(p);
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
    return JSON.createObjectNode()
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
    return JSON.createObjectNode().put("channel", channel).put("ts", ts);
  }

  private ObjectNode postEphemeral(ObjectNode p) {
    String channel = member(channel(p, "channel"));
    String user = user(required(p, "user"));
    JsonNode blocks = blocks(p);
    String text = p.path("text").asText("");
    if (text.isEmpty() && blocks.isMissingNode()) {
      throw new Refusal("no_text");
    }
    String thread = p.hasNonNull("thread_ts") ? p.get("thread_ts").asText() : null;
    SlackMessage m =
        new SlackMessage(
            channel, engine.nextTs(), thread, engine.botUserId(), text, blocks, List.of(), user, 0);
    state.run(() -> state.ephemerals.add(m));
    return JSON.createObjectNode().put("message_ts", m.ts());
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
    return (ObjectNode) JSON.createObjectNode().set("view", stored);
  }

  private ObjectNode usersInfo(ObjectNode p) {
    SlackUser u = state.read(() -> state.users.get(required(p, "user")));
    if (u == null) {
      throw new Refusal("user_not_found");
    }
    ObjectNode user =
        JSON.createObjectNode()
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
    return (ObjectNode) JSON.createObjectNode().set("user", user);
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
    return JSON.createObjectNode()
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
    JsonNode checked = blocks(p);
    JsonNode blocks = comment == null ? checked : MissingNode.getInstance();
    if (!files.isArray() || files.isEmpty()) {
      throw new Refusal("invalid_arguments");
    }
    ArrayNode out = JSON.createArrayNode();
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
    return (ObjectNode) JSON.createObjectNode().set("files", out);
  }

  // --- the other routes ---

  private void upload(HttpExchange exchange, String id, byte[] body) throws IOException {
    int status =
        state.update(
            () -> {
              SlackState.FileEntry e = state.files.get(id);
              int s =
                  e == null
                      ? 404
                      : e.bytes != null ? 409 : body.length != e.declaredLength ? 400 : 200;
              if (s == 200) {
                e.bytes = body;
                e.mimetype = Payloads.sniff(body);
              }
              state.calls.add(
                  new SlackCall(
                      SlackCall.UPLOAD,
                      JSON.createObjectNode().put("file_id", id).put("bytes", body.length),
                      true,
                      s,
                      s == 200 ? null : "upload refused",
                      engine.clock().instant()));
              return s;
            });
    send(
        exchange,
        status,
        "text/plain",
        (status == 200 ? "OK - " + body.length : "upload refused: " + status)
            .getBytes(StandardCharsets.UTF_8));
  }

  private void download(HttpExchange exchange, String path) throws IOException {
    String[] parts = path.split("/");
    String fileId = parts.length > 2 ? parts[2].substring(parts[2].indexOf('-') + 1) : "";
    boolean authorized = engine.botToken().equals(bearer(exchange));
    SlackState.FileEntry e = state.read(() -> state.files.get(fileId));
    int status = !authorized ? 403 : e == null || e.bytes == null ? 404 : 200;
    state.run(
        () ->
            state.calls.add(
                new SlackCall(
                    SlackCall.DOWNLOAD,
                    JSON.createObjectNode().put("file_id", fileId),
                    authorized,
                    status,
                    status == 200 ? null : "download refused",
                    engine.clock().instant())));
    if (status == 200) {
      send(exchange, 200, e.mimetype == null ? "application/octet-stream" : e.mimetype, e.bytes);
    } else {
      send(
          exchange,
          status,
          "text/plain",
          (status == 403
                  ? "not_authed: a private file needs the bot token in "
                      + "the Authorization header"
                  : "file_not_found")
              .getBytes(StandardCharsets.UTF_8));
    }
  }

  private void responseUrl(HttpExchange exchange, String id, byte[] body) throws IOException {
    JsonNode post;
    try {
      post = JSON.readTree(body);
    } catch (IOException e) {
      post = MissingNode.getInstance();
    }
    JsonNode message = post;
    String error =
        state.update(
            () -> {
              SlackState.ResponseUrl r = state.responseUrls.get(id);
              String err =
                  r == null
                      ? "invalid_url"
                      : engine.clock().instant().isAfter(r.issued.plus(RESPONSE_URL_LIFE))
                          ? "expired_url"
                          : r.posts.size() >= RESPONSE_URL_USES
                              ? "used_url"
                              : !message.isObject() ? "invalid_payload" : null;
              if (err == null) {
                r.posts.add(message);
              }
              state.calls.add(
                  new SlackCall(
                      SlackCall.RESPONSE_URL,
                      message.isObject()
                          ? ((ObjectNode) message.deepCopy()).put("response_url_id", id)
                          : JSON.createObjectNode().put("response_url_id", id),
                      true,
                      err == null ? 200 : 404,
                      err,
                      engine.clock().instant()));
              return err;
            });
    if (error == null) {
      send(exchange, 200, "text/plain", "ok".getBytes(StandardCharsets.UTF_8));
    } else {
      send(exchange, 404, "text/plain", error.getBytes(StandardCharsets.UTF_8));
    }
  }

  // --- reading requests ---

  private static ObjectNode params(HttpExchange exchange, byte[] body) {
    String type = String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type"));
    String text = new String(body, StandardCharsets.UTF_8);
    if (type.startsWith("application/json")) {
      try {
        JsonNode node = JSON.readTree(text);
        return node instanceof ObjectNode o ? o : JSON.createObjectNode();
      } catch (IOException e) {
        return JSON.createObjectNode();
      }
    }
    ObjectNode out = JSON.createObjectNode();
    String query = exchange.getRequestURI().getRawQuery();
    for (String source : new String[] {query, text}) {
      if (source == null || source.isEmpty()) {
        continue;
      }
      for (String pair : source.split("&")) {
        int eq = pair.indexOf('=');
        String key =
            URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        out.put(
            key, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private static String bearer(HttpExchange exchange) {
    String h = exchange.getRequestHeaders().getFirst("Authorization");
    return h != null && h.startsWith("Bearer ") ? h.substring(7).strip() : null;
  }

  private static String required(ObjectNode p, String name) {
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
  private static JsonNode json(ObjectNode p, String name) {
    JsonNode v = p.get(name);
    if (v == null || v.isNull()) {
      throw new Refusal("invalid_arguments");
    }
    if (!v.isTextual()) {
      return v;
    }
    try {
      return JSON.readTree(v.asText());
    } catch (IOException e) {
      throw new Refusal("invalid_arguments");
    }
  }

  /** The block types a message may carry. */
  private static final Set<String> MESSAGE_BLOCKS =
      Set.of(
          "section",
          "actions",
          "context",
          "divider",
          "header",
          "image",
          "rich_text",
          "file",
          "video",
          "markdown");

  /**
   * Blocks as Slack checks them ({@code invalid_blocks} otherwise): at most 50, of a type a message
   * may carry; block ids unique, at most 255 characters; a section's text at most 3,000 characters
   * and at most 10 fields; an actions block 1 to 25 elements; action ids unique in the message, at
   * most 255 characters; a button's text plain, at most 75 characters, its value at most 2,000; a
   * header at most 150 characters; a context block at most 10 elements.
   */
  private static JsonNode blocks(ObjectNode p) {
    if (!p.hasNonNull("blocks")) {
      return MissingNode.getInstance();
    }
    JsonNode blocks = json(p, "blocks");
    if (!blocks.isArray() || blocks.size() > 50) {
      throw new Refusal("invalid_blocks");
    }
    Set<String> blockIds = new HashSet<>();
    Set<String> actionIds = new HashSet<>();
    for (JsonNode b : blocks) {
      String type = b.path("type").asText("");
      String blockId = b.path("block_id").asText("");
      if (!MESSAGE_BLOCKS.contains(type)
          || blockId.length() > 255
          || (!blockId.isEmpty() && !blockIds.add(blockId))) {
        throw new Refusal("invalid_blocks");
      }
      boolean ok =
          switch (type) {
            case "section" ->
                (b.has("text") || b.has("fields"))
                    && b.path("text").path("text").asText("").length() <= 3000
                    && b.path("fields").size() <= 10;
            case "actions" ->
                !b.path("elements").isEmpty()
                    && b.path("elements").size() <= 25
                    && elementsOk(b.path("elements"), actionIds);
            case "header" ->
                "plain_text".equals(b.path("text").path("type").asText())
                    && b.path("text").path("text").asText("").length() <= 150;
            case "context" -> !b.path("elements").isEmpty() && b.path("elements").size() <= 10;
            default -> true;
          };
      if (!ok) {
        throw new Refusal("invalid_blocks");
      }
    }
    return blocks;
  }

  private static boolean elementsOk(JsonNode elements, Set<String> actionIds) {
    for (JsonNode e : elements) {
      String id = e.path("action_id").asText("");
      if (id.length() > 255 || (!id.isEmpty() && !actionIds.add(id))) {
        return false;
      }
      if ("button".equals(e.path("type").asText())
          && (!"plain_text".equals(e.path("text").path("type").asText())
              || e.path("text").path("text").asText("").isEmpty()
              || e.path("text").path("text").asText().length() > 75
              || e.path("value").asText("").length() > 2000)) {
        return false;
      }
    }
    return true;
  }

  // --- answering ---

  private static void sendJson(HttpExchange exchange, int status, JsonNode body)
      throws IOException {
    send(exchange, status, "application/json; charset=utf-8", JSON.writeValueAsBytes(body));
  }

  private static void send(HttpExchange exchange, int status, String type, byte[] body)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
