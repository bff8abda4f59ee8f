package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The machinery behind {@code FakeSlack}: one HTTP server (Web API, uploads, file downloads,
 * response URLs) and one WebSocket server (Socket Mode) on loopback, over one {@link SlackState}.
 * {@link Envelopes} makes what users do; {@link WebApi} and {@link WebMethods} answer the app.
 * Tests use {@code FakeSlack}; this class is public only for it.
 */
public final class SlackEngine implements AutoCloseable {
  static final InetAddress LOOPBACK = loopback();

  /** Everything fixed when the fake starts. */
  public record Config(
      String botToken,
      String appToken,
      String signingSecret,
      String teamId,
      String teamDomain,
      String botUserId,
      String botId,
      String appId,
      List<SlackUser> users,
      List<String> channels,
      InstantSource clock,
      Duration awaitTimeout) {
    public Config {
      Objects.requireNonNull(botToken, "botToken");
      Objects.requireNonNull(appToken, "appToken");
      Objects.requireNonNull(signingSecret, "signingSecret");
      users = List.copyOf(users);
      channels = List.copyOf(channels);
      Objects.requireNonNull(clock, "clock");
      Objects.requireNonNull(awaitTimeout, "awaitTimeout");
    }
  }

  private final Config config;
  private final SlackState state;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final HttpServer http;
  private final SocketModeServer socket;
  private final Envelopes envelopes;
  private final HttpClient outbound =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public SlackEngine(Config config) {
    this.config = config;
    this.state = new SlackState(config.awaitTimeout());
    this.envelopes = new Envelopes(this);
    state.run(
        () -> {
          config.users().forEach(u -> state.users.put(u.id(), u));
          state.channels.addAll(config.channels());
        });
    try {
      http = HttpServer.create(new InetSocketAddress(LOOPBACK, 0), 256);
    } catch (IOException e) {
      throw new UncheckedIOException("FakeSlack could not listen on loopback", e);
    }
    http.createContext("/", new WebApi(this));
    http.setExecutor(executor);
    http.start();
    socket = new SocketModeServer(this);
    socket.startAndWait();
  }

  // --- configuration, for the fake's parts and FakeSlack ---

  public Config config() {
    return config;
  }

  SlackState state() {
    return state;
  }

  InstantSource clock() {
    return config.clock();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + http.getAddress().getPort();
  }

  String socketUrl() {
    return socket.url();
  }

  String botToken() {
    return config.botToken();
  }

  String appToken() {
    return config.appToken();
  }

  String teamId() {
    return config.teamId();
  }

  String teamDomain() {
    return config.teamDomain();
  }

  String botUserId() {
    return config.botUserId();
  }

  String botId() {
    return config.botId();
  }

  String appId() {
    return config.appId();
  }

  /**
   * A message timestamp: the clock's seconds and a unique six-digit suffix, as Slack's {@code
   * 1700000000.000100}.
   */
  String nextTs() {
    return config.clock().instant().getEpochSecond()
        + "."
        + String.format("%06d", state.next() % 1_000_000);
  }

  String nextFileId() {
    return "F" + String.format("%010d", state.next());
  }

  String triggerUser(String trigger) {
    return state.read(() -> state.triggerUsers.get(trigger));
  }

  SlackFile file(SlackState.FileEntry e) {
    return new SlackFile(
        e.id,
        e.name,
        e.title,
        e.mimetype,
        e.bytes == null ? new byte[0] : e.bytes,
        baseUrl()
            + "/files-pri/"
            + config.teamId()
            + "-"
            + e.id
            + "/"
            + URLEncoder.encode(e.name, StandardCharsets.UTF_8),
        e.user,
        e.channel,
        e.threadTs,
        e.initialComment);
  }

  // --- what users do ---

  /** A file a user uploaded (not yet shared anywhere). */
  public SlackFile addUserFile(String userId, byte[] bytes, String name) {
    requireUser(userId);
    String id = nextFileId();
    return state.update(
        () -> {
          SlackState.FileEntry e = new SlackState.FileEntry(id, name, bytes.length, userId);
          e.bytes = bytes.clone();
          e.mimetype = Payloads.sniff(bytes);
          e.title = name;
          state.files.put(id, e);
          return file(e);
        });
  }

  /** A message a user posts, with files they uploaded before. */
  public SlackMessage postAsUser(
      String userId, String channel, String threadTs, String text, List<SlackFile> files) {
    requireUser(userId);
    requireChannel(channel);
    return state.update(
        () -> {
          List<SlackFile> shared =
              files.stream()
                  .map(
                      f -> {
                        SlackState.FileEntry e = state.files.get(f.id());
                        e.channel = channel;
                        e.threadTs = threadTs;
                        return file(e);
                      })
                  .toList();
          SlackMessage m =
              new SlackMessage(channel, nextTs(), threadTs, userId, text, null, shared, null, 0);
          state.messages.put(channel + "/" + m.ts(), m);
          return m;
        });
  }

  // --- envelopes, made by Envelopes ---

  public SlackEnvelope slashCommand(String userId, String channel, String command, String text) {
    return envelopes.slashCommand(userId, channel, command, text);
  }

  public SlackEnvelope blockAction(String userId, SlackMessage message, String actionId) {
    return envelopes.blockAction(userId, message, actionId);
  }

  public SlackEnvelope messageShortcut(String userId, SlackMessage message, String callbackId) {
    return envelopes.messageShortcut(userId, message, callbackId);
  }

  public SlackEnvelope viewSubmission(String userId, SlackView view, Map<String, String> values) {
    return envelopes.viewSubmission(userId, view, values);
  }

  public SlackEnvelope appMention(SlackMessage message) {
    return envelopes.appMention(message);
  }

  // --- delivering to the app ---

  public void sendOverSocket(SlackEnvelope envelope) {
    socket.send(envelope);
  }

  /**
   * {@code envelope} as Slack resends an event whose ack was lost or late: same payload (event_id),
   * new envelope id.
   */
  public SlackEnvelope resent(SlackEnvelope envelope) {
    return envelope.resent(Envelopes.envelopeId(), "timeout");
  }

  /** The envelope leaves now: its ack's 3 seconds start, and so do its trigger id's. */
  void markSent(SlackEnvelope envelope) {
    java.time.Instant now = config.clock().instant();
    state.run(
        () -> {
          state.sent.put(envelope.envelopeId(), now);
          if (envelope.triggerId() != null) {
            state.triggers.computeIfPresent(envelope.triggerId(), (t, issued) -> now);
          }
        });
  }

  /**
   * Sends Slack's {@code disconnect} (refresh_requested) and waits until the app has opened a new
   * connection.
   */
  public void refreshSocket() {
    int before = socket.opened();
    socket.refresh();
    await(
        "a new Socket Mode connection after disconnect",
        r -> socket.opened() > before ? java.util.Optional.of(true) : java.util.Optional.empty());
  }

  public int socketConnections() {
    return socket.connections();
  }

  public void answerSocketPings(boolean answer) {
    socket.answerPings(answer);
  }

  /**
   * Posts {@code envelope} to the app's Request URL as Slack does over HTTP: a slash command as a
   * form, interactivity as a form with {@code payload}, events as JSON; signed as asked.
   */
  public HttpDelivery sendOverHttp(URI requestUrl, SlackEnvelope envelope, Signing signing) {
    String body;
    String type;
    if (envelope.type().equals("slash_commands")) {
      StringBuilder b = new StringBuilder();
      for (Iterator<Map.Entry<String, JsonNode>> it = envelope.payload().fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        b.append(b.isEmpty() ? "" : "&")
            .append(enc(f.getKey()))
            .append('=')
            .append(enc(f.getValue().asText()));
      }
      body = b.toString();
      type = "application/x-www-form-urlencoded";
    } else if (envelope.type().equals("interactive")) {
      body = "payload=" + enc(envelope.payload().toString());
      type = "application/x-www-form-urlencoded";
    } else {
      body = envelope.payload().toString();
      type = "application/json";
    }
    String ts = String.valueOf(config.clock().instant().getEpochSecond());
    HttpRequest.Builder request =
        HttpRequest.newBuilder(requestUrl)
            .timeout(config.awaitTimeout())
            .header("Content-Type", type)
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (signing != Signing.UNSIGNED) {
      String secret =
          signing == Signing.SIGNED
              ? config.signingSecret()
              : config.signingSecret() + "-not-the-app's";
      request
          .header("X-Slack-Request-Timestamp", ts)
          .header("X-Slack-Signature", sign(secret, ts, body));
    }
    if (envelope.retryAttempt()
        > 0) { // over HTTP a resend says so in headers; the reason is http_timeout
      request
          .header("X-Slack-Retry-Num", String.valueOf(envelope.retryAttempt()))
          .header("X-Slack-Retry-Reason", "http_timeout");
    }
    try {
      markSent(envelope);
      java.time.Instant sent = config.clock().instant();
      HttpResponse<String> response =
          outbound.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new HttpDelivery(
          response.statusCode(), response.body(), Duration.between(sent, config.clock().instant()));
    } catch (IOException e) {
      throw new UncheckedIOException("FakeSlack: could not reach the app at " + requestUrl, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** {@code v0=} and the hex HMAC-SHA256 of {@code v0:<ts>:<body>}, as Slack signs requests. */
  static String sign(String secret, String ts, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "v0="
          + HexFormat.of()
              .formatHex(mac.doFinal(("v0:" + ts + ":" + body).getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  // --- scripting ---

  public void setBotInChannel(String channel, boolean member) {
    requireChannel(channel);
    state.run(
        () -> {
          if (member) {
            state.botAbsent.remove(channel);
          } else {
            state.botAbsent.add(channel);
          }
        });
  }

  public void rateLimitNext(String method, int times, int retryAfterSeconds) {
    state.run(
        () -> state.rateLimits.put(method, new SlackState.RateLimit(times, retryAfterSeconds)));
  }

  @Override
  public void close() {
    try {
      socket.stop(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    http.stop(0);
    executor.shutdownNow();
  }

  // --- helpers ---

  String userName(String userId) {
    return state.read(() -> state.users.get(userId).name());
  }

  void requireUser(String userId) {
    if (!state.read(() -> state.users.containsKey(userId))) {
      throw new IllegalArgumentException("FakeSlack: no user " + userId + " in the workspace");
    }
  }

  void requireChannel(String channel) {
    if (!state.read(() -> state.channels.contains(channel))) {
      throw new IllegalArgumentException("FakeSlack: no channel " + channel);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static InetAddress loopback() {
    try {
      return InetAddress.getByName("127.0.0.1");
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  // --- reading records, for FakeSlack ---

  public <T> T read(java.util.function.Function<Records, T> read) {
    return state.read(() -> read.apply(new Records(state)));
  }

  /**
   * Waits until {@code find} answers from the records, at most the await timeout.
   *
   * @throws AssertionError naming {@code what} and listing the calls recorded instead
   */
  public <T> T await(
      String what, java.util.function.Function<Records, java.util.Optional<T>> find) {
    return state.await(what, () -> find.apply(new Records(state)), () -> state.calls);
  }

  /** A read-only look at the records, valid inside {@link #read} and {@link #await}. */
  public static final class Records {
    private final SlackState s;

    Records(SlackState s) {
      this.s = s;
    }

    public List<SlackCall> calls() {
      return List.copyOf(s.calls);
    }

    public List<SlackMessage> messages() {
      return List.copyOf(s.messages.values());
    }

    public List<SlackMessage> ephemerals() {
      return List.copyOf(s.ephemerals);
    }

    public List<SlackView> views() {
      return List.copyOf(s.views.values());
    }

    /** The app's ack of an envelope (its payload), or null while there is none. */
    public JsonNode ack(String envelopeId) {
      SlackState.Ack a = s.acks.get(envelopeId);
      return a == null ? null : a.payload().deepCopy();
    }

    /** How long after it was sent the app acked an envelope; null while it has not. */
    public Duration ackDelay(String envelopeId) {
      SlackState.Ack a = s.acks.get(envelopeId);
      return a == null ? null : a.after();
    }

    /** The envelopes acked later than {@code limit} after they were sent, with how late. */
    public List<String> acksLaterThan(Duration limit) {
      return s.acks.entrySet().stream()
          .filter(a -> a.getValue().after().compareTo(limit) > 0)
          .map(
              a ->
                  a.getKey()
                      + " acked "
                      + a.getValue().after().toMillis()
                      + " ms after it was sent")
          .toList();
    }

    public List<JsonNode> responsePosts(String responseUrl) {
      String id = responseUrl.substring(responseUrl.indexOf("/response/") + "/response/".length());
      SlackState.ResponseUrl r = s.responseUrls.get(id);
      return r == null
          ? List.<JsonNode>of()
          : r.posts.stream().<JsonNode>map(JsonNode::deepCopy).toList();
    }
  }
}
