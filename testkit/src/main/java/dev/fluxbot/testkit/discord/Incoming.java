package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.DiscordPart;
import dev.fluxbot.testkit.DiscordRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A request as the routes see it: parsed once, recorded with the status it is answered with.
 *
 * @param route the path below {@code /api/v10}, e.g. {@code /users/@me}; the whole path elsewhere
 * @param json the JSON body or a multipart {@code payload_json}; missing when there is none
 * @param badJson whether the body claimed to be JSON (or multipart) and was not
 */
record Incoming(
    String method,
    String target,
    String route,
    Map<String, List<String>> headers,
    byte[] body,
    JsonNode json,
    List<DiscordPart> parts,
    boolean badJson,
    Instant at) {
  DiscordRequest record(int status) {
    return new DiscordRequest(method, target, headers, body, json, parts, status, at);
  }

  String path() {
    int q = target.indexOf('?');
    return q < 0 ? target : target.substring(0, q);
  }

  String[] segments() {
    String trimmed = route.startsWith("/") ? route.substring(1) : route;
    return trimmed.isEmpty() ? new String[0] : trimmed.split("/", -1);
  }

  List<DiscordPart> files() {
    return parts.stream().filter(DiscordPart::isFile).toList();
  }

  Optional<String> header(String name) {
    return headers.entrySet().stream()
        .filter(e -> e.getKey().equalsIgnoreCase(name))
        .flatMap(e -> e.getValue().stream())
        .findFirst();
  }

  Optional<String> query(String name) {
    int q = target.indexOf('?');
    if (q < 0) return Optional.empty();
    for (String pair : target.substring(q + 1).split("&")) {
      int eq = pair.indexOf('=');
      if (URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8)
          .equals(name)) {
        return Optional.of(
            eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return Optional.empty();
  }
}
