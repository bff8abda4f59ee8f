package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.java_websocket.WebSocket;
import org.java_websocket.framing.Framedata;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.WebSocketServer;

/**
 * Socket Mode: a connection opened with a ticket from {@code apps.connections.open} gets {@code
 * hello}; envelopes go to the newest open connection; the app's acks ({@code {"envelope_id": …,
 * "payload": …}}) are recorded.
 */
final class SocketModeServer extends WebSocketServer {
  private final SlackEngine engine;
  private final SlackState state;
  private final CountDownLatch started = new CountDownLatch(1);
  private final List<WebSocket> open = new ArrayList<>(); // guarded by state's lock
  private volatile boolean answerPings = true;
  private int opened; // guarded by state's lock: connections ever opened

  SocketModeServer(SlackEngine engine) {
    super(new InetSocketAddress(SlackEngine.LOOPBACK, 0));
    this.engine = engine;
    this.state = engine.state();
    setReuseAddr(true);
    setDaemon(true);
    setConnectionLostTimeout(0);
  }

  void startAndWait() {
    start();
    try {
      if (!started.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("The fake Slack Socket Mode server did not start");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(
          "Interrupted while starting the fake Slack Socket Mode server", e);
    }
  }

  String url() {
    return "ws://127.0.0.1:" + getPort() + "/link/";
  }

  @Override
  public void onStart() {
    started.countDown();
  }

  @Override
  public void onOpen(WebSocket conn, ClientHandshake handshake) {
    if (!handshake.getResourceDescriptor().contains("ticket=")) {
      conn.close(1008, "FakeSlack: open Socket Mode with the URL apps.connections.open returns");
      return;
    }
    ObjectNode hello =
        WebApi.JSON.createObjectNode().put("type", "hello").put("num_connections", 1);
    hello
        .putObject("debug_info")
        .put("host", "fake-slack")
        .put("build_number", 1)
        .put("approximate_connection_time", 18060);
    hello.putObject("connection_info").put("app_id", engine.appId());
    conn.send(hello.toString());
    state.run(
        () -> {
          open.add(conn);
          opened++;
        });
  }

  @Override
  public void onClose(WebSocket conn, int code, String reason, boolean remote) {
    state.run(() -> open.remove(conn));
  }

  @Override
  public void onMessage(WebSocket conn, String message) {
    JsonNode frame;
    try {
      frame = WebApi.JSON.readTree(message);
    } catch (IOException e) {
      return;
    }
    if (frame.hasNonNull("envelope_id")) {
      JsonNode payload =
          frame.has("payload") ? frame.get("payload") : WebApi.JSON.createObjectNode();
      String id = frame.get("envelope_id").asText();
      java.time.Instant now = engine.clock().instant();
      state.run(
          () -> {
            java.time.Instant sent = state.sent.get(id);
            state.acks.put(
                id,
                new SlackState.Ack(
                    payload,
                    sent == null
                        ? java.time.Duration.ZERO
                        : java.time.Duration.between(sent, now)));
          });
    }
  }

  /**
   * Answers a ping with a pong, as Slack does, unless told not to ({@link #answerPings(boolean)}).
   */
  @Override
  public void onWebsocketPing(WebSocket conn, Framedata ping) {
    if (answerPings) {
      super.onWebsocketPing(conn, ping);
    }
  }

  /**
   * Whether pings get pongs: off, the connections stay open but look dead to a client that checks.
   */
  void answerPings(boolean answer) {
    answerPings = answer;
  }

  @Override
  public void onError(WebSocket conn, Exception ex) {
    if (conn == null) {
      started.countDown();
    }
  }

  int opened() {
    return state.read(() -> opened);
  }

  int connections() {
    return state.read(open::size);
  }

  /**
   * Sends to the newest connection, waiting (bounded) for one. The 3 seconds of the ack and of the
   * envelope's trigger id start now, as on Slack.
   */
  void send(SlackEnvelope envelope) {
    ObjectNode frame =
        WebApi.JSON
            .createObjectNode()
            .put("envelope_id", envelope.envelopeId())
            .put("type", envelope.type())
            .put("accepts_response_payload", !envelope.type().equals("events_api"));
    if (envelope.retryAttempt() > 0) {
      frame
          .put("retry_attempt", envelope.retryAttempt())
          .put("retry_reason", envelope.retryReason());
    }
    frame.set("payload", envelope.payload());
    WebSocket conn =
        state.await(
            "open Socket Mode connection",
            () -> open.isEmpty() ? Optional.empty() : Optional.of(open.get(open.size() - 1)),
            () -> "none open");
    engine.markSent(envelope);
    conn.send(frame.toString());
  }

  /**
   * Asks the app to reconnect, as Slack does now and then: a {@code disconnect} frame to the newest
   * connection.
   */
  void refresh() {
    WebSocket conn = state.read(() -> open.isEmpty() ? null : open.get(open.size() - 1));
    if (conn == null) {
      throw new IllegalStateException("FakeSlack: no open Socket Mode connection to refresh");
    }
    ObjectNode frame =
        WebApi.JSON.createObjectNode().put("type", "disconnect").put("reason", "refresh_requested");
    frame.putObject("debug_info").put("host", "fake-slack");
    conn.send(frame.toString());
  }
}
