package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** An HTTP response of the fake Discord. */
record Reply(int status, String contentType, byte[] body, Map<String, String> headers) {
  static Reply json(int status, JsonNode body) {
    return new Reply(
        status, "application/json", body.toString().getBytes(StandardCharsets.UTF_8), Map.of());
  }

  static Reply ok(JsonNode body) {
    return json(200, body);
  }

  /** Discord's error body with its JSON error code. */
  static Reply error(int status, String message, int code) {
    return json(status, Json.error(message, code));
  }

  static Reply noContent() {
    return new Reply(204, "application/json", new byte[0], Map.of());
  }

  static Reply bytes(String contentType, byte[] body) {
    return new Reply(200, contentType, body, Map.of());
  }

  static Reply unauthorized() {
    return error(401, "401: Unauthorized", 0);
  }

  static Reply notFound() {
    return error(404, "404: Not Found", 0);
  }

  static Reply methodNotAllowed() {
    return error(405, "405: Method Not Allowed", 0);
  }

  Reply withHeader(String name, String value) {
    Map<String, String> more = new LinkedHashMap<>(headers);
    more.put(name, value);
    return new Reply(status, contentType, body, Map.copyOf(more));
  }

  void send(HttpExchange exchange, boolean head) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    // Discord's answers come through Google's front end; JDA reads a 429 without Via as
    // Cloudflare's.
    exchange.getResponseHeaders().set("Via", "1.1 google");
    headers.forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
    if (head || body.length == 0) {
      exchange.sendResponseHeaders(status, -1);
      return;
    }
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
