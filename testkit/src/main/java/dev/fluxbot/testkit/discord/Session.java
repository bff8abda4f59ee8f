package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.testkit.DiscordShard;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.java_websocket.WebSocket;
import org.java_websocket.exceptions.WebsocketNotConnectedException;

/**
 * A gateway session: its shard, its sequence, every dispatch it was sent (for a RESUME to replay),
 * and the connection it lives on now, if any. Sends are serialized, so {@code s} rises on the wire.
 */
final class Session {
  final String id;
  final int intents;
  final DiscordShard shard;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<ObjectNode> sent = new ArrayList<>(); // guarded by lock
  private int seq; // guarded by lock
  private WebSocket connection; // guarded by lock
  private boolean ended; // guarded by lock

  Session(String id, int intents, DiscordShard shard, WebSocket connection) {
    this.id = id;
    this.intents = intents;
    this.shard = shard;
    this.connection = connection;
  }

  /**
   * Sends a dispatch (op 0) with the next sequence number; kept for a RESUME if no connection is
   * live.
   */
  void dispatch(String event, JsonNode data) {
    lock.lock();
    try {
      ObjectNode frame = Json.object().put("op", 0).put("s", ++seq).put("t", event);
      frame.set("d", data.deepCopy());
      sent.add(frame);
      if (connection != null) trySend(connection, frame.toString());
    } finally {
      lock.unlock();
    }
  }

  /** Moves the session onto a new connection and replays what came after {@code lastSeq}. */
  void resume(WebSocket newConnection, long lastSeq) {
    lock.lock();
    try {
      connection = newConnection;
      for (ObjectNode frame : sent) {
        if (frame.get("s").asLong() > lastSeq) trySend(newConnection, frame.toString());
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Sends if the connection is still open; a frame for a connection that just closed waits for a
   * RESUME.
   */
  static void trySend(WebSocket connection, String text) {
    try {
      if (connection.isOpen()) connection.send(text);
    } catch (WebsocketNotConnectedException e) {
      // closed between the check and the send: the frame stays in the session's log for a RESUME
    }
  }

  void detach(WebSocket closed, boolean end) {
    lock.lock();
    try {
      if (connection == closed) connection = null;
      if (end) ended = true;
    } finally {
      lock.unlock();
    }
  }

  boolean isLive() {
    lock.lock();
    try {
      return !ended;
    } finally {
      lock.unlock();
    }
  }

  boolean isOn(WebSocket candidate) {
    lock.lock();
    try {
      return connection == candidate;
    } finally {
      lock.unlock();
    }
  }
}
