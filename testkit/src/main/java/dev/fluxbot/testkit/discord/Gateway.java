package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.DiscordShard;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.java_websocket.WebSocket;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.WebSocketServer;

/**
 * Discord's gateway, JSON without compression: HELLO on connect, heartbeat ACKs, IDENTIFY → READY
 * and a GUILD_CREATE per guild, RESUME → the missed dispatches and RESUMED, member chunks on
 * request. A session ends when its client closes with 1000 or 1001, as on Discord; other closes
 * leave it resumable.
 *
 * <p>Sharding as Discord documents it: IDENTIFY's {@code shard: [id, total]} (none is {@code [0,
 * 1]}) must have {@code 0 <= id < total}, else 4010 Invalid shard; a shard that would hold more
 * guilds than the limit (Discord's is 2,500) is closed with 4011 Sharding required. A session's
 * READY and GUILD_CREATEs cover its shard's guilds only; a guild's events go to the sessions whose
 * shard is {@code (guild_id >> 22) % total}, and events of no guild (DMs) to shard 0. Sessions with
 * different totals may run side by side, as while a bot re-shards.
 */
final class Gateway extends WebSocketServer {
  private static final int GUILDS_INTENT = 1;

  private final World world;
  private final Recorder recorder;
  private final CountDownLatch started = new CountDownLatch(1);
  private final ReentrantLock lock = new ReentrantLock();
  private final Map<String, Session> sessions = new LinkedHashMap<>(); // guarded by lock
  private volatile Exception startFailure;

  Gateway(World world, Recorder recorder) {
    super(new InetSocketAddress(DiscordEngine.LOOPBACK, 0));
    this.world = world;
    this.recorder = recorder;
    setReuseAddr(true);
    setDaemon(true);
    setConnectionLostTimeout(0);
  }

  void startAndWait() {
    start();
    try {
      if (!started.await(10, TimeUnit.SECONDS) || startFailure != null) {
        throw new IllegalStateException("The fake Discord gateway did not start", startFailure);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while starting the fake Discord gateway", e);
    }
  }

  String url() {
    return "ws://127.0.0.1:" + getPort() + "/";
  }

  @Override
  public void onStart() {
    started.countDown();
  }

  @Override
  public void onOpen(WebSocket conn, ClientHandshake handshake) {
    String query = handshake.getResourceDescriptor();
    if (query.contains("compress=") || query.contains("encoding=etf")) {
      // A client expecting zlib or ETF would read garbage; say so instead (JDA:
      // setCompression(Compression.NONE)).
      System.err.println("FakeDiscord gateway speaks plain JSON only; refused " + query);
      conn.close(
          4000,
          "FakeDiscord speaks JSON without compression; connect with encoding=json and no compress");
      return;
    }
    ObjectNode hello = frame(10);
    hello
        .putObject("d")
        .put("heartbeat_interval", world.config.heartbeatIntervalMillis())
        .putArray("_trace")
        .add("[\"fake-gateway\",{\"micros\":0}]");
    Session.trySend(conn, hello.toString());
  }

  @Override
  public void onMessage(WebSocket conn, String text) {
    JsonNode frame;
    try {
      frame = Json.parse(text);
    } catch (IllegalArgumentException e) {
      conn.close(4002, "Error while decoding payload.");
      return;
    }
    recorder.gatewayFrame(frame);
    JsonNode d = frame.path("d");
    switch (frame.path("op").asInt(-1)) {
      case 1 -> Session.trySend(conn, frame(11).toString());
      case 2 -> identify(conn, d);
      case 3, 4 -> {} // presence and voice state updates change nothing here
      case 6 -> resume(conn, d);
      case 8 -> requestMembers(conn, d);
      default -> conn.close(4001, "Unknown opcode.");
    }
  }

  private void identify(WebSocket conn, JsonNode d) {
    if (sessionOn(conn) != null) {
      conn.close(4005, "Already authenticated.");
      return;
    }
    if (!world.config.token().equals(d.path("token").asText())) {
      conn.close(4004, "Authentication failed.");
      return;
    }
    Optional<DiscordShard> shard = shard(d.get("shard"));
    if (shard.isEmpty()) {
      conn.close(4010, "Invalid shard.");
      return;
    }
    List<Guilds.Guild> guilds = guildsOn(shard.get());
    if (guilds.size() > world.config.maxGuildsPerShard()) {
      conn.close(4011, "Sharding required.");
      return;
    }
    Session session =
        new Session(
            world.ids.next().substring(0, 8) + Long.toHexString(System.nanoTime()),
            d.path("intents").asInt(),
            shard.get(),
            conn);
    session.dispatch("READY", ready(session, guilds));
    if ((session.intents & GUILDS_INTENT) != 0) {
      guilds.forEach(
          g ->
              session.dispatch("GUILD_CREATE", world.shapes.guildCreate(g, world.clock.instant())));
    }
    withLock(() -> sessions.put(session.id, session));
  }

  /** IDENTIFY's {@code shard}: none is {@code [0, 1]}; empty when it is not a valid shard. */
  private static Optional<DiscordShard> shard(JsonNode shard) {
    if (shard == null || shard.isNull()) return Optional.of(DiscordShard.ONLY);
    if (!shard.isArray()
        || shard.size() != 2
        || !shard.get(0).canConvertToInt()
        || !shard.get(1).canConvertToInt()
        || !shard.get(0).isIntegralNumber()
        || !shard.get(1).isIntegralNumber()) {
      return Optional.empty();
    }
    int id = shard.get(0).asInt();
    int total = shard.get(1).asInt();
    return total >= 1 && id >= 0 && id < total
        ? Optional.of(new DiscordShard(id, total))
        : Optional.empty();
  }

  private List<Guilds.Guild> guildsOn(DiscordShard shard) {
    return world.guilds.all().stream().filter(g -> shard.receives(g.config().id())).toList();
  }

  private ObjectNode ready(Session session, List<Guilds.Guild> onShard) {
    ObjectNode ready = Json.object().put("v", 10);
    ready.set("user", world.shapes.selfUser());
    ArrayNode guilds = ready.putArray("guilds");
    onShard.forEach(g -> guilds.addObject().put("id", g.config().id()).put("unavailable", true));
    ready.putArray("shard").add(session.shard.id()).add(session.shard.total());
    ready
        .put("session_id", session.id)
        .put("session_type", "normal")
        .put("resume_gateway_url", url());
    ready.putObject("application").put("id", world.config.applicationId()).put("flags", 0);
    ready.putArray("private_channels");
    ready.putArray("relationships");
    ready.putArray("presences");
    ready.putArray("guild_join_requests");
    ready.putArray("geo_ordered_rtc_regions").add("us-east");
    ready.putObject("user_settings");
    ready.putObject("auth");
    ready.putArray("_trace").add("[\"fake-gateway\",{\"micros\":0}]");
    return ready;
  }

  private void resume(WebSocket conn, JsonNode d) {
    Session session = withLock(() -> sessions.get(d.path("session_id").asText()));
    if (session == null
        || !session.isLive()
        || !world.config.token().equals(d.path("token").asText())) {
      ObjectNode invalid = frame(9).put("d", false);
      Session.trySend(conn, invalid.toString());
      return;
    }
    session.resume(conn, d.path("seq").asLong());
    session.dispatch(
        "RESUMED",
        Json.object().set("_trace", Json.array().add("[\"fake-gateway\",{\"micros\":0}]")));
  }

  private void requestMembers(WebSocket conn, JsonNode d) {
    Session session = sessionOn(conn);
    var guild = world.guilds.guild(d.path("guild_id").asText(null));
    if (session == null || guild.isEmpty() || !session.shard.receives(guild.get().config().id()))
      return;
    List<String> wanted = new ArrayList<>();
    d.path("user_ids").forEach(id -> wanted.add(id.asText()));
    String query = d.path("query").asText("");
    ObjectNode chunk =
        Json.object()
            .put("guild_id", guild.get().config().id())
            .put("chunk_index", 0)
            .put("chunk_count", 1);
    if (d.hasNonNull("nonce")) chunk.put("nonce", d.get("nonce").asText());
    ArrayNode members = chunk.putArray("members");
    guild.get().config().members().stream()
        .filter(
            m -> wanted.isEmpty() ? m.username().startsWith(query) : wanted.contains(m.userId()))
        .forEach(m -> members.add(world.shapes.member(guild.get(), m, world.clock.instant())));
    chunk.putArray("not_found");
    session.dispatch("GUILD_MEMBERS_CHUNK", chunk);
  }

  @Override
  public void onClose(WebSocket conn, int code, String reason, boolean remote) {
    boolean end = remote && (code == 1000 || code == 1001);
    withLock(() -> sessions.values().forEach(s -> s.detach(conn, end && s.isOn(conn))));
  }

  @Override
  public void onError(WebSocket conn, Exception ex) {
    if (conn == null) {
      startFailure = ex;
      started.countDown();
    }
  }

  /**
   * Sends a dispatch to every live session whose shard gets it (see the class comment), waiting
   * (bounded) for such a client to identify first.
   */
  void dispatch(String event, JsonNode data, Duration timeout) {
    String guildId = guildOf(event, data);
    List<Session> live = awaitSessions(guildId, timeout);
    live.forEach(s -> s.dispatch(event, data));
  }

  /**
   * The guild whose shard gets an event: its {@code guild_id}, a GUILD_CREATE/UPDATE/DELETE's
   * {@code id}, or the guild of its {@code channel_id}; null for none (a DM).
   */
  private String guildOf(String event, JsonNode data) {
    if (data.hasNonNull("guild_id")) return data.get("guild_id").asText();
    if (event.matches("GUILD_(CREATE|UPDATE|DELETE)") && data.hasNonNull("id")) {
      return data.get("id").asText();
    }
    if (data.hasNonNull("channel_id")) {
      return world
          .guilds
          .guildOfChannel(data.get("channel_id").asText())
          .map(g -> g.config().id())
          .orElse(null);
    }
    return null;
  }

  private List<Session> awaitSessions(String guildId, Duration timeout) {
    return Await.present(
        timeout,
        () -> {
          List<Session> live =
              withLock(
                  () ->
                      sessions.values().stream()
                          .filter(s -> s.isLive() && s.shard.receives(guildId))
                          .toList());
          return live.isEmpty() ? Optional.empty() : Optional.of(live);
        },
        () ->
            "No client identified with the fake Discord gateway ("
                + url()
                + ") on the shard that gets "
                + (guildId == null ? "events of no guild (shard 0)" : "guild " + guildId)
                + " within "
                + timeout.toMillis()
                + " ms, so there is no one to send the event to. Live sessions' shards: "
                + liveShards()
                + "; frames received: "
                + recorder.gatewayFrames().size());
  }

  /** The shards of the live sessions, in the order they identified. */
  List<DiscordShard> liveShards() {
    return withLock(
        () -> sessions.values().stream().filter(Session::isLive).map(s -> s.shard).toList());
  }

  /** Sends a raw frame (op 7 RECONNECT, op 9 INVALID SESSION, …) on every open connection. */
  void sendToAll(ObjectNode frame) {
    getConnections().forEach(c -> Session.trySend(c, frame.toString()));
  }

  /** Closes every open connection from the server's side; the sessions stay resumable. */
  void disconnectAll(int code, String reason) {
    getConnections().forEach(c -> c.close(code, reason));
  }

  void awaitLiveSessions(int count, Duration timeout) {
    Await.present(
        timeout,
        () -> liveSessions() == count ? Optional.of(count) : Optional.empty(),
        () ->
            "Expected "
                + count
                + " live gateway sessions within "
                + timeout.toMillis()
                + " ms, but there are "
                + liveSessions());
  }

  int liveSessions() {
    return withLock(() -> (int) sessions.values().stream().filter(Session::isLive).count());
  }

  void shutdown() {
    try {
      stop(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Session sessionOn(WebSocket conn) {
    return withLock(
        () -> sessions.values().stream().filter(s -> s.isOn(conn)).findFirst().orElse(null));
  }

  private static ObjectNode frame(int op) {
    return Json.object().put("op", op).putNull("s").putNull("t");
  }

  private <T> T withLock(Supplier<T> action) {
    lock.lock();
    try {
      return action.get();
    } finally {
      lock.unlock();
    }
  }

  private void withLock(Runnable action) {
    withLock(
        () -> {
          action.run();
          return null;
        });
  }
}
