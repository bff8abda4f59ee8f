package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.testkit.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A bare gateway client on the JDK's WebSocket, to see the fake's frames as they are. */
final class GatewayClient implements AutoCloseable, WebSocket.Listener {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
  private final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private final StringBuilder partial = new StringBuilder();
  private final WebSocket socket;

  GatewayClient(String url) {
    this.socket =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .buildAsync(URI.create(url + "?v=10&encoding=json"), this)
            .join();
  }

  void send(String json) {
    socket.sendText(json, true).join();
  }

  /**
   * The next frame with that op, skipping others; fails after 20 seconds (a shared, busy machine).
   */
  JsonNode next(Predicate<JsonNode> wanted) {
    List<String> skipped = new ArrayList<>();
    return Await.present(
        Duration.ofSeconds(20),
        () -> {
          for (JsonNode frame = frames.poll(); frame != null; frame = frames.poll()) {
            if (wanted.test(frame)) return Optional.of(frame);
            skipped.add(frame.path("op").asInt() + "/" + frame.path("t").asText());
          }
          return Optional.empty();
        },
        () -> "No matching gateway frame within 20 s; got so far: " + skipped);
  }

  JsonNode nextOp(int op) {
    return next(f -> f.path("op").asInt() == op);
  }

  JsonNode nextDispatch(String event) {
    return next(f -> f.path("op").asInt() == 0 && f.path("t").asText().equals(event));
  }

  int awaitClose() {
    return closed.orTimeout(5, TimeUnit.SECONDS).join();
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      try {
        frames.add(JSON.readTree(partial.toString()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      partial.setLength(0);
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closed.complete(statusCode);
    return null;
  }

  /** Closes as JDA does on shutdown: 1000, which ends the session. */
  @Override
  public void close() {
    if (closed.isDone() || socket.isOutputClosed()) return;
    // The server may close first; a close that crosses it is fine.
    socket.sendClose(1000, "bye").exceptionally(e -> socket).join();
  }

  /** Drops the connection without ending the session, as a network failure would. */
  void drop() {
    socket.abort();
  }
}
