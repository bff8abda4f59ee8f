package dev.fluxbot.testkit.bfl;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** An HTTP response, built by a host's logic and sent by {@link RecordingHandler}. */
record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
  static Response json(int status, JsonNode body) {
    return json(status, body.toString());
  }

  static Response json(int status, String body) {
    return new Response(
        status, "application/json", body.getBytes(StandardCharsets.UTF_8), Map.of());
  }

  /** BFL's error body, {@code {"detail": "<text>"}}. */
  static Response detail(int status, String text) {
    return json(status, Json.detail(text));
  }

  static Response text(int status, String text) {
    return new Response(
        status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8), Map.of());
  }

  static Response bytes(String contentType, byte[] body) {
    return new Response(200, contentType, body, Map.of());
  }

  Response withHeader(String name, String value) {
    Map<String, String> more = new LinkedHashMap<>(headers);
    more.put(name, value);
    return new Response(status, contentType, body, Map.copyOf(more));
  }

  void send(HttpExchange exchange, boolean head) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    headers.forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
    if (head || body.length == 0) {
      if (head) exchange.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
      exchange.sendResponseHeaders(status, -1);
      return;
    }
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  static String reason(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 402 -> "Payment Required";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 429 -> "Too Many Requests";
      case 500 -> "Internal Server Error";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      default -> "HTTP " + status;
    };
  }
}
