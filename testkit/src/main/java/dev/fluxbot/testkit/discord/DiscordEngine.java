package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.fluxbot.testkit.DiscordAttachment;
import dev.fluxbot.testkit.DiscordCallback;
import dev.fluxbot.testkit.DiscordContext;
import dev.fluxbot.testkit.DiscordGuild;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordMessage;
import dev.fluxbot.testkit.DiscordRequest;
import dev.fluxbot.testkit.DiscordShard;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The machinery behind {@code FakeDiscord}; internal, use that class. A JDK HTTP server on loopback
 * (REST and CDN, virtual threads) and a WebSocket gateway share one {@link World} and one {@link
 * Recorder}.
 */
public final class DiscordEngine implements AutoCloseable {
  static final InetAddress LOOPBACK = loopback();
  private static final Pattern USER_MENTION = Pattern.compile("<@!?([1-9][0-9]{0,19})>");

  private final World world;
  private final Recorder recorder = new Recorder();
  private final MessageStore store;
  private final InteractionFactory interactions;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final HttpServer http;
  private final Gateway gateway;
  private final AtomicBoolean closed = new AtomicBoolean();

  private DiscordEngine(EngineConfig config) throws IOException {
    this.world = new World(config);
    this.store = new MessageStore(world);
    this.interactions = new InteractionFactory(world, recorder);
    this.gateway = new Gateway(world, recorder);
    this.http = HttpServer.create(new InetSocketAddress(LOOPBACK, 0), 256);
    world.baseUrl = "http://127.0.0.1:" + http.getAddress().getPort();
    gateway.startAndWait();
    RestApi api =
        new RestApi(
            world,
            new InteractionRoutes(world, store, recorder),
            new ChannelRoutes(world, store, recorder),
            gateway.url());
    http.createContext("/", new RestHandler(world, recorder, api));
    http.setExecutor(executor);
    http.start();
  }

  public static DiscordEngine start(EngineConfig config) {
    try {
      return new DiscordEngine(config);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not bind the fake Discord servers on loopback", e);
    }
  }

  public String baseUrl() {
    return world.baseUrl;
  }

  public String gatewayUrl() {
    return gateway.url();
  }

  public EngineConfig config() {
    return world.config;
  }

  /** The guilds as the fake completed them (the {@code @everyone} role, the bot, a channel). */
  public List<DiscordGuild> guilds() {
    return world.guilds.all().stream().map(Guilds.Guild::config).toList();
  }

  public String dmChannelId(String userId) {
    return world.locked(() -> world.dmChannel(userId));
  }

  // --- interactions ---

  public DiscordInteraction slashCommand(
      DiscordContext where, String command, Map<String, ?> options) {
    return send(world.locked(() -> interactions.slashCommand(where, command, options)));
  }

  public DiscordInteraction button(DiscordContext where, String messageId, String customId) {
    return send(world.locked(() -> interactions.button(where, messageId, customId)));
  }

  public DiscordInteraction modalSubmit(
      DiscordContext where, String customId, Map<String, String> fields) {
    return send(world.locked(() -> interactions.modalSubmit(where, customId, fields)));
  }

  public DiscordInteraction messageContextMenu(
      DiscordContext where, String name, String targetMessageId) {
    return send(world.locked(() -> interactions.messageContextMenu(where, name, targetMessageId)));
  }

  private DiscordInteraction send(DiscordInteraction interaction) {
    gateway.dispatch("INTERACTION_CREATE", interaction.payload(), world.config.awaitTimeout());
    return interaction;
  }

  public void dispatch(String event, JsonNode data) {
    gateway.dispatch(event, data, world.config.awaitTimeout());
  }

  /** Sends op 7 RECONNECT: clients close, reconnect and RESUME. */
  public void requestReconnect() {
    gateway.sendToAll(Json.object().put("op", 7).putNull("d").putNull("s").putNull("t"));
  }

  /** Sends op 9 INVALID SESSION. */
  public void invalidateSessions(boolean resumable) {
    gateway.sendToAll(Json.object().put("op", 9).put("d", resumable).putNull("s").putNull("t"));
  }

  public void disconnectGateway(int code, String reason) {
    gateway.disconnectAll(code, reason);
  }

  public int liveGatewaySessions() {
    return gateway.liveSessions();
  }

  public List<DiscordShard> liveGatewayShards() {
    return gateway.liveShards();
  }

  public List<JsonNode> gatewayFrames() {
    return recorder.gatewayFrames();
  }

  public JsonNode awaitGatewayFrame(Predicate<JsonNode> predicate, String what) {
    return recorder.await(
        r -> r.gatewayFrames().stream().filter(predicate).findFirst(),
        world.config.awaitTimeout(),
        what,
        Recorder::gatewayFrames);
  }

  public void awaitLiveGatewaySessions(int count) {
    gateway.awaitLiveSessions(count, world.config.awaitTimeout());
  }

  // --- messages and files ---

  public DiscordAttachment addAttachment(
      byte[] bytes, String filename, String contentType, String channelId) {
    return world.locked(() -> store.attachment(channelId, bytes, filename, contentType));
  }

  public DiscordMessage postMessageAsUser(
      DiscordContext where, String content, List<DiscordAttachment> attachments) {
    DiscordMessage message =
        world.locked(
            () -> {
              String channelId = interactions.channelOf(where);
              ObjectNode json =
                  store.create(
                      channelId,
                      where.userId(),
                      0,
                      Json.object().put("content", content),
                      List.of());
              var list = json.putArray("attachments");
              attachments.forEach(a -> list.add(a.json()));
              var mentions = json.putArray("mentions");
              Matcher m = USER_MENTION.matcher(content);
              while (m.find()) mentions.add(world.shapes.user(m.group(1)));
              return new DiscordMessage(
                  DiscordMessage.Kind.USER_MESSAGE,
                  json.get("id").asText(),
                  channelId,
                  null,
                  json,
                  List.of(),
                  json);
            });
    recorder.message(message);
    return message;
  }

  public Optional<JsonNode> message(String messageId) {
    return world.locked(() -> store.get(messageId).map(JsonNode::deepCopy));
  }

  // --- scripting ---

  public void rateLimitNext(String route, double retryAfterSeconds, boolean uploadsOnly) {
    RouteTemplate template = RouteTemplate.parse(route);
    if (!(retryAfterSeconds >= 0)) {
      throw new IllegalArgumentException(
          "retryAfterSeconds must not be negative. Provided: " + retryAfterSeconds);
    }
    ObjectNode body =
        Json.object()
            .put("message", "You are being rate limited.")
            .put("retry_after", retryAfterSeconds)
            .put("global", false);
    double resetAt = System.currentTimeMillis() / 1000.0 + retryAfterSeconds;
    Reply reply =
        Reply.json(429, body)
            .withHeader("Retry-After", Long.toString((long) Math.ceil(retryAfterSeconds)))
            .withHeader("X-RateLimit-Limit", "5")
            .withHeader("X-RateLimit-Remaining", "0")
            .withHeader("X-RateLimit-Reset", String.format(Locale.ROOT, "%.3f", resetAt))
            .withHeader(
                "X-RateLimit-Reset-After", String.format(Locale.ROOT, "%.3f", retryAfterSeconds))
            .withHeader("X-RateLimit-Bucket", Integer.toHexString(template.text().hashCode()))
            .withHeader("X-RateLimit-Scope", "user");
    world.locked(() -> world.scripted.add(new World.Scripted(template, reply, uploadsOnly)));
  }

  /**
   * {@link #rateLimitNext(String, double, boolean)} for each of the next {@code times} requests.
   */
  public void rateLimitNext(
      String route, double retryAfterSeconds, boolean uploadsOnly, int times) {
    checkTimes(times);
    for (int i = 0; i < times; i++) rateLimitNext(route, retryAfterSeconds, uploadsOnly);
  }

  /** {@link #failNext(String, int, int, String, boolean)} for each of the next {@code times}. */
  public void failNext(
      String route, int status, int code, String message, boolean uploadsOnly, int times) {
    checkTimes(times);
    for (int i = 0; i < times; i++) failNext(route, status, code, message, uploadsOnly);
  }

  private static void checkTimes(int times) {
    if (times < 1)
      throw new IllegalArgumentException("times must be at least 1. Provided: " + times);
  }

  public void failNext(String route, int status, int code, String message, boolean uploadsOnly) {
    RouteTemplate template = RouteTemplate.parse(route);
    world.locked(
        () ->
            world.scripted.add(
                new World.Scripted(template, Reply.error(status, message, code), uploadsOnly)));
  }

  public void delayNext(String route, Duration delay) {
    RouteTemplate template = RouteTemplate.parse(route);
    if (delay.isNegative())
      throw new IllegalArgumentException("delay must not be negative. Provided: " + delay);
    world.locked(() -> world.delays.add(new World.Delay(template, delay)));
  }

  public void setAttachmentSizeLimit(long bytes) {
    world.locked(() -> world.attachmentSizeLimit = bytes);
  }

  public long attachmentSizeLimit() {
    return world.locked(() -> world.attachmentSizeLimit);
  }

  // --- what was recorded ---

  public List<DiscordRequest> requests() {
    return recorder.requests();
  }

  public List<DiscordCallback> callbacks() {
    return recorder.callbacks();
  }

  public List<DiscordMessage> messages() {
    return recorder.messages();
  }

  public List<JsonNode> registeredCommands(String scope) {
    return world.locked(
        () -> world.commands(scope).values().stream().map(c -> (JsonNode) c.deepCopy()).toList());
  }

  public List<DiscordRequest> requests(String route) {
    RouteTemplate template = RouteTemplate.parse(route);
    return recorder.requests().stream()
        .filter(r -> r.path().startsWith(RestHandler.API_PREFIX + "/"))
        .filter(
            r -> template.matches(r.method(), r.path().substring(RestHandler.API_PREFIX.length())))
        .toList();
  }

  public DiscordRequest awaitRequest(String route, Predicate<DiscordRequest> predicate) {
    return recorder.await(
        r -> requests(route).stream().filter(predicate).findFirst(),
        world.config.awaitTimeout(),
        "matching request on " + route,
        Recorder::requests);
  }

  public <T> T await(Function<List<DiscordCallback>, Optional<T>> inCallbacks, String what) {
    return recorder.await(
        r -> inCallbacks.apply(r.callbacks()),
        world.config.awaitTimeout(),
        what,
        Recorder::callbacks);
  }

  public DiscordMessage awaitMessage(Predicate<DiscordMessage> predicate, String what) {
    return recorder.await(
        r -> r.messages().stream().filter(predicate).findFirst(),
        world.config.awaitTimeout(),
        what,
        Recorder::messages);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    gateway.shutdown();
    http.stop(0);
    executor.shutdownNow();
  }

  private static InetAddress loopback() {
    try {
      return InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1});
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
