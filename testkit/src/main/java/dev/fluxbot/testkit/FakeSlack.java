package dev.fluxbot.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.slack.HttpDelivery;
import dev.fluxbot.testkit.slack.Signing;
import dev.fluxbot.testkit.slack.SlackCall;
import dev.fluxbot.testkit.slack.SlackEngine;
import dev.fluxbot.testkit.slack.SlackEnvelope;
import dev.fluxbot.testkit.slack.SlackFile;
import dev.fluxbot.testkit.slack.SlackMessage;
import dev.fluxbot.testkit.slack.SlackUser;
import dev.fluxbot.testkit.slack.SlackView;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * A scriptable loopback fake of Slack that the real Bolt and slack-api-client talk to: the Web API
 * methods a bot uses ({@code auth.test}, {@code apps.connections.open}, {@code chat.postMessage},
 * {@code chat.update}, {@code chat.delete}, {@code chat.postEphemeral}, {@code views.open}, {@code
 * users.info}, {@code files.getUploadURLExternal}, the upload URL it hands out, {@code
 * files.completeUploadExternal} with its {@code blocks}), private file downloads that need the bot
 * token in the Authorization header, response URLs (five posts in 30 minutes), and Socket Mode (a
 * WebSocket that says {@code hello}, sends envelopes and records the acks). Requests to an app's
 * Request URL (HTTP mode) are signed as Slack signs them, or not, as a test asks.
 *
 * <p>Slack's rules are played where a bot could break them: an ack later than 3 seconds after its
 * envelope was sent is a timeout ({@link #awaitAck} fails); trigger ids are good once, for 3
 * seconds from their envelope's sending, on the injected clock; blocks are checked as Slack checks
 * them; an upload must post as many bytes as it announced; a 429 with {@code Retry-After} is
 * scripted with {@link #rateLimitNext}; an event is resent as Slack resends it with {@link #resend}
 * (same {@code event_id}, {@code retry_attempt} 1). Every call is recorded ({@link #calls}); every
 * {@code await…} waits at most the await timeout, then throws an {@link AssertionError} that lists
 * the calls recorded instead.
 *
 * <pre>{@code
 * try (FakeSlack slack = FakeSlack.start()) {
 *   App app = new App(AppConfig.builder().singleTeamBotToken(slack.botToken())
 *       .slack(Slack.getInstance(slackConfig(slack.apiUrl()))).build());
 *   app.command("/imagine", (req, ctx) -> ctx.ack("Queued #1"));
 *   new SocketModeApp(slack.appToken(), SocketModeClient.Backend.JavaWebSocket, app).startAsync();
 *   SlackEnvelope e = slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a fox");
 *   assertThat(slack.awaitAck(e).path("text").asText()).isEqualTo("Queued #1");
 * }
 * }</pre>
 */
public final class FakeSlack implements AutoCloseable {
  public static final String BOT_TOKEN = "xoxb-1000000001-2000000002-fakeslacktestkitbottoken";
  public static final String APP_TOKEN = "xapp-1-A0FAKEAPP01-3000000003-fakeslacktestkitapptoken";
  public static final String SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
  public static final String TEAM_ID = "T0FAKETEAM";
  public static final String BOT_USER_ID = "U0FLUXBOT";
  public static final String APP_ID = "A0FAKEAPP01";

  /** The default channel, {@code #general}. */
  public static final String CHANNEL = "C0GENERAL";

  /** A plain member, {@code alice}. */
  public static final String ALICE = "U0ALICE";

  /** A second plain member, {@code bob}. */
  public static final String BOB = "U0BOB";

  /** A workspace admin, {@code ada} ({@code is_admin}). */
  public static final String ADMIN = "U0ADA";

  /** The workspace owner, {@code olivia} ({@code is_owner}). */
  public static final String OWNER = "U0OLIVIA";

  /**
   * How long an {@code await…} waits before it fails: generous, because CI machines are shared and
   * slow; a passing test never waits it out.
   */
  public static final Duration DEFAULT_AWAIT_TIMEOUT = Duration.ofSeconds(30);

  private final SlackEngine engine;

  private FakeSlack(SlackEngine engine) {
    this.engine = engine;
  }

  public static FakeSlack start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  // --- where to point the client ---

  /** For {@code SlackConfig#setMethodsEndpointUrlPrefix}: {@code http://127.0.0.1:<port>/api/}. */
  public String apiUrl() {
    return engine.baseUrl() + "/api/";
  }

  /** {@code http://127.0.0.1:<port>}, without a trailing slash. */
  public String baseUrl() {
    return engine.baseUrl();
  }

  public String botToken() {
    return engine.config().botToken();
  }

  public String appToken() {
    return engine.config().appToken();
  }

  public String signingSecret() {
    return engine.config().signingSecret();
  }

  // --- what users do ---

  /** A file {@code userId} uploaded, to share with {@link #postAsUser}. */
  public SlackFile addUserFile(String userId, byte[] bytes, String name) {
    return engine.addUserFile(
        userId, Objects.requireNonNull(bytes, "bytes"), Objects.requireNonNull(name, "name"));
  }

  /**
   * A message {@code userId} posts in {@code channel} (or a thread of it), with files they
   * uploaded.
   */
  public SlackMessage postAsUser(
      String userId, String channel, String threadTs, String text, List<SlackFile> files) {
    return engine.postAsUser(userId, channel, threadTs, text, files);
  }

  /** Runs a slash command over Socket Mode; returns the envelope sent. */
  public SlackEnvelope slashCommand(String userId, String channel, String command, String text) {
    return send(engine.slashCommand(userId, channel, command, text));
  }

  /** Clicks the button with {@code actionId} on {@code message} over Socket Mode. */
  public SlackEnvelope clickButton(String userId, SlackMessage message, String actionId) {
    return send(engine.blockAction(userId, message, actionId));
  }

  /** Runs the message shortcut {@code callbackId} on {@code message} over Socket Mode. */
  public SlackEnvelope messageShortcut(String userId, SlackMessage message, String callbackId) {
    return send(engine.messageShortcut(userId, message, callbackId));
  }

  /** Submits a modal the bot opened, with input values by {@code action_id}, over Socket Mode. */
  public SlackEnvelope submitView(String userId, SlackView view, Map<String, String> values) {
    return send(engine.viewSubmission(userId, view, values));
  }

  /**
   * Sends the {@code app_mention} event of {@code message} (which mentions the bot) over Socket
   * Mode.
   */
  public SlackEnvelope appMention(SlackMessage message) {
    return send(engine.appMention(message));
  }

  /** The envelope of a slash command, to send over HTTP with {@link #sendOverHttp}. */
  public SlackEnvelope slashCommandEnvelope(
      String userId, String channel, String command, String text) {
    return engine.slashCommand(userId, channel, command, text);
  }

  /**
   * The {@code app_mention} event of {@code message}, to send over HTTP with {@link #sendOverHttp}.
   */
  public SlackEnvelope appMentionEnvelope(SlackMessage message) {
    return engine.appMention(message);
  }

  /**
   * The envelope of a message shortcut on {@code message}, to send over HTTP with {@link
   * #sendOverHttp}.
   */
  public SlackEnvelope messageShortcutEnvelope(
      String userId, SlackMessage message, String callbackId) {
    return engine.messageShortcut(userId, message, callbackId);
  }

  /** The envelope of a modal's submission, to send over HTTP with {@link #sendOverHttp}. */
  public SlackEnvelope viewSubmissionEnvelope(
      String userId, SlackView view, Map<String, String> values) {
    return engine.viewSubmission(userId, view, values);
  }

  /** Posts {@code envelope} to an app's Request URL, signed as asked; returns the app's answer. */
  public HttpDelivery sendOverHttp(URI requestUrl, SlackEnvelope envelope, Signing signing) {
    return engine.sendOverHttp(requestUrl, envelope, signing);
  }

  /**
   * Sends an envelope made earlier (e.g. {@link #slashCommandEnvelope}) over Socket Mode; its 3
   * seconds start now.
   */
  public SlackEnvelope sendOverSocket(SlackEnvelope envelope) {
    return send(envelope);
  }

  /**
   * Sends {@code envelope} again over Socket Mode as Slack does when an event's ack was lost or
   * late: the same payload (the same {@code event_id}) in a new envelope, with {@code
   * retry_attempt} one higher and {@code retry_reason} {@code timeout}. Returns the envelope sent.
   */
  public SlackEnvelope resend(SlackEnvelope envelope) {
    return send(engine.resent(envelope));
  }

  /**
   * {@code envelope} as a resend, to post with {@link #sendOverHttp} (it adds {@code
   * X-Slack-Retry-Num} and {@code -Reason}).
   */
  public SlackEnvelope resentEnvelope(SlackEnvelope envelope) {
    return engine.resent(envelope);
  }

  /**
   * Asks the app to reconnect, as Slack does every few hours ({@code disconnect}, {@code
   * refresh_requested}), and waits until it has opened its new connection.
   */
  public void refreshSocket() {
    engine.refreshSocket();
  }

  private SlackEnvelope send(SlackEnvelope envelope) {
    engine.sendOverSocket(envelope);
    return envelope;
  }

  // --- scripting ---

  /**
   * The next {@code times} calls of {@code method} (a Web API method) answer 429 with {@code
   * Retry-After}.
   */
  public void rateLimitNext(String method, int times, int retryAfterSeconds) {
    engine.rateLimitNext(method, times, retryAfterSeconds);
  }

  /**
   * Puts the bot in {@code channel} or takes it out (it starts in every channel); outside, posting
   * and sharing files there answer {@code not_in_channel}, as on Slack.
   */
  public void setBotInChannel(String channel, boolean member) {
    engine.setBotInChannel(channel, member);
  }

  /**
   * Whether the Socket Mode server answers pings with pongs (it does, as Slack does). Off, every
   * connection stays open but looks dead to a client that pings: a stalled network, or a loaded
   * machine where the pong comes too late.
   */
  public void answerSocketPings(boolean answer) {
    engine.answerSocketPings(answer);
  }

  // --- what the fake saw ---

  public List<SlackCall> calls() {
    return engine.read(r -> r.calls());
  }

  public List<SlackCall> calls(String method) {
    return calls().stream().filter(c -> c.method().equals(method)).toList();
  }

  /** Channel messages as they are now, oldest first. */
  public List<SlackMessage> messages() {
    return engine.read(r -> r.messages());
  }

  public List<SlackMessage> ephemerals() {
    return engine.read(r -> r.ephemerals());
  }

  public List<SlackView> views() {
    return engine.read(r -> r.views());
  }

  public int socketConnections() {
    return engine.socketConnections();
  }

  /**
   * The app's ack of an envelope: its response payload, or an empty object.
   *
   * @throws AssertionError also when the ack came over 3 seconds (the fake's clock) after the
   *     envelope was sent: Slack had given up on it, shown the user a timeout, and drops its answer
   */
  public JsonNode awaitAck(SlackEnvelope envelope) {
    JsonNode ack =
        engine.await(
            "ack of envelope " + envelope.envelopeId() + " (" + envelope.type() + ")",
            r -> Optional.ofNullable(r.ack(envelope.envelopeId())));
    Duration after = ackDelay(envelope).orElseThrow();
    if (after.compareTo(SlackEnvelope.ACK_WITHIN) > 0) {
      throw new AssertionError(
          "FakeSlack: envelope "
              + envelope.envelopeId()
              + " ("
              + envelope.type()
              + ") was acked "
              + after.toMillis()
              + " ms after it was sent; Slack waits "
              + SlackEnvelope.ACK_WITHIN.toSeconds()
              + " s, then shows the "
              + "user a timeout and drops the answer: "
              + ack);
    }
    return ack;
  }

  /**
   * How long after it was sent the app acked {@code envelope} (the fake's clock); empty while it
   * has not.
   */
  public Optional<Duration> ackDelay(SlackEnvelope envelope) {
    return engine.read(r -> Optional.ofNullable(r.ackDelay(envelope.envelopeId())));
  }

  /**
   * Every ack that came later than Slack waits ({@link SlackEnvelope#ACK_WITHIN}, the fake's
   * clock), awaited or not, one line each: Slack had shown the user a timeout and dropped it.
   */
  public List<String> lateAcks() {
    return engine.read(r -> r.acksLaterThan(SlackEnvelope.ACK_WITHIN));
  }

  /** The first call of {@code method} that passes {@code test}. */
  public SlackCall awaitCall(String method, Predicate<SlackCall> test) {
    return engine.await(
        method + " call matching the test",
        r -> r.calls().stream().filter(c -> c.method().equals(method) && test.test(c)).findFirst());
  }

  /** The first channel message (as it is now) that passes {@code test}. */
  public SlackMessage awaitMessage(Predicate<SlackMessage> test) {
    return engine.await(
        "channel message matching the test", r -> r.messages().stream().filter(test).findFirst());
  }

  public SlackMessage awaitEphemeral(Predicate<SlackMessage> test) {
    return engine.await(
        "ephemeral message matching the test",
        r -> r.ephemerals().stream().filter(test).findFirst());
  }

  public SlackView awaitView(Predicate<SlackView> test) {
    return engine.await("view matching the test", r -> r.views().stream().filter(test).findFirst());
  }

  /** The posts to an envelope's response URL (at most five were taken). */
  public List<JsonNode> responsePosts(SlackEnvelope envelope) {
    return engine.read(r -> r.responsePosts(envelope.responseUrl()));
  }

  public JsonNode awaitResponsePost(SlackEnvelope envelope, Predicate<JsonNode> test) {
    return engine.await(
        "response_url post matching the test",
        r -> r.responsePosts(envelope.responseUrl()).stream().filter(test).findFirst());
  }

  public void awaitSocketConnections(int n) {
    engine.await(
        n + " open Socket Mode connection(s)",
        r -> engine.socketConnections() == n ? Optional.of(n) : Optional.empty());
  }

  @Override
  public void close() {
    engine.close();
  }

  @Override
  public String toString() {
    return "FakeSlack[" + engine.baseUrl() + "]";
  }

  public static final class Builder {
    private InstantSource clock = InstantSource.system();
    private Duration awaitTimeout = DEFAULT_AWAIT_TIMEOUT;
    private final List<SlackUser> users =
        new ArrayList<>(
            List.of(
                SlackUser.member(ALICE, "alice"),
                SlackUser.member(BOB, "bob"),
                new SlackUser(ADMIN, "ada", true, false),
                new SlackUser(OWNER, "olivia", true, true)));

    private Builder() {}

    /**
     * Slack's time: message timestamps, trigger ids (3 s), response URLs (30 min), request
     * signatures.
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public Builder awaitTimeout(Duration timeout) {
      this.awaitTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder user(SlackUser user) {
      users.add(Objects.requireNonNull(user, "user"));
      return this;
    }

    public FakeSlack start() {
      return new FakeSlack(
          new SlackEngine(
              new SlackEngine.Config(
                  BOT_TOKEN,
                  APP_TOKEN,
                  SIGNING_SECRET,
                  TEAM_ID,
                  "fluxbot-test",
                  BOT_USER_ID,
                  "B0FLUXBOT",
                  APP_ID,
                  users,
                  List.of(CHANNEL),
                  clock,
                  awaitTimeout)));
    }
  }
}
