package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Slack over HTTP: the Web API below {@code /api/}, the upload URLs {@code
 * files.getUploadURLExternal} hands out, private file downloads (bot token in the Authorization
 * header) and response URLs. Web API errors are HTTP 200 with {@code ok: false} and an {@code
 * error} code, as on Slack; a scripted rate limit answers 429 with {@code Retry-After}. The methods
 * themselves are {@link WebMethods}.
 */
final class WebApi implements HttpHandler {
  static final ObjectMapper JSON = new ObjectMapper();
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
  private final WebMethods methods;

  WebApi(SlackEngine engine) {
    this.engine = engine;
    this.state = engine.state();
    this.methods = new WebMethods(engine);
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
                answer = methods.call(method, params);
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
