package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.fluxbot.testkit.DiscordPart;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The fake's one HTTP server: REST below {@code /api/v10}, the CDN below {@code /attachments}.
 * Parses each request once, answers it, records it with its status, then sends the answer.
 */
final class RestHandler implements HttpHandler {
  static final String API_PREFIX = "/api/v10";

  private final World world;
  private final Recorder recorder;
  private final RestApi api;

  RestHandler(World world, Recorder recorder, RestApi api) {
    this.world = world;
    this.recorder = recorder;
    this.api = api;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      Incoming in = parse(exchange, body);
      hold(in);
      // The request's effect and its record are made under one hold of the world's lock, so a test
      // that sees the effect (an edited message) also sees the request in requests().
      Reply reply =
          world.locked(
              () -> {
                Reply r = respond(in);
                recorder.request(in.record(r.status()));
                return r;
              });
      reply.send(exchange, in.method().equals("HEAD"));
    }
  }

  /**
   * Sleeps out the latency a test scripted for this request, before it takes effect: requests the
   * client sent later may take effect first, as on Discord, where each is processed on its own.
   */
  private void hold(Incoming in) {
    if (!in.path().startsWith(API_PREFIX + "/")) return;
    Duration delay = world.locked(() -> world.takeDelay(in.method(), in.route()));
    if (delay.isZero()) return;
    try {
      Thread.sleep(delay);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Reply respond(Incoming in) {
    try {
      String path = in.path();
      if (path.startsWith(API_PREFIX + "/")) {
        Optional<Reply> scripted =
            world.locked(() -> world.takeScripted(in.method(), in.route(), !in.files().isEmpty()));
        return scripted.orElseGet(() -> api.respond(in));
      }
      if (path.startsWith("/attachments/") || path.startsWith("/media/attachments/"))
        return cdn(in, path);
      return Reply.notFound();
    } catch (RuntimeException e) {
      // A bug in the fake: answer like a crashed server, and leave the trace in the test output.
      System.err.println("FakeDiscord failed on " + in.method() + " " + in.target());
      e.printStackTrace();
      return Reply.error(500, "500: Internal Server Error", 0);
    }
  }

  private Reply cdn(Incoming in, String path) {
    if (!in.method().equals("GET") && !in.method().equals("HEAD")) return Reply.methodNotAllowed();
    String key = path.startsWith("/media/") ? path.substring("/media".length()) : path;
    World.CdnFile file = world.locked(() -> world.cdn.get(key));
    return file == null ? Reply.notFound() : Reply.bytes(file.contentType(), file.bytes());
  }

  private Incoming parse(HttpExchange exchange, byte[] body) {
    URI uri = exchange.getRequestURI();
    String target =
        uri.getRawQuery() == null ? uri.getRawPath() : uri.getRawPath() + "?" + uri.getRawQuery();
    String path = uri.getPath();
    String route = path.startsWith(API_PREFIX + "/") ? path.substring(API_PREFIX.length()) : path;
    String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
    List<DiscordPart> parts = List.of();
    JsonNode json = MissingNode.getInstance();
    boolean bad = false;
    try {
      Optional<String> boundary = Multipart.boundary(contentType);
      if (boundary.isPresent()) {
        parts = Multipart.parse(body, boundary.get());
        Optional<DiscordPart> payload =
            parts.stream().filter(p -> p.name().equals("payload_json")).findFirst();
        if (payload.isPresent()) json = Json.parse(payload.get().bytes());
      } else if (isJson(contentType) || (contentType == null && body.length > 0)) {
        json = Json.parse(body);
      }
    } catch (JsonProcessingException | IllegalArgumentException e) {
      bad = true;
    }
    return new Incoming(
        exchange.getRequestMethod().toUpperCase(Locale.ROOT),
        target,
        route,
        exchange.getRequestHeaders(),
        body,
        json,
        parts,
        bad,
        world.clock.instant());
  }

  private static boolean isJson(String contentType) {
    return contentType != null
        && contentType.toLowerCase(Locale.ROOT).startsWith("application/json");
  }
}
