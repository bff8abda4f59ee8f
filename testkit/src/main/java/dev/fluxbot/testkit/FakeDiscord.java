package dev.fluxbot.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.discord.DiscordEngine;
import dev.fluxbot.testkit.discord.EngineConfig;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * A scriptable loopback fake of Discord (REST API v10, CDN and Gateway) that the real JDA logs
 * into, for tests that drive a bot over real sockets.
 *
 * <p>One HTTP server answers REST below {@link #restBaseUrl()} and serves files below {@code
 * /attachments}; a WebSocket server ({@link #gatewayUrl()}, JSON, no compression) sends HELLO,
 * READY and a GUILD_CREATE per guild, and then the events a test makes: the {@code
 * INTERACTION_CREATE}s of {@link #slashCommand}, {@link #button}, {@link #modalSubmit} and {@link
 * #messageContextMenu}. Each returns a {@link DiscordInteraction}; the bot's answers are recorded
 * and can be awaited ({@link #awaitCallback}, {@link #awaitOriginalEdit}, {@link
 * #awaitChannelMessage}). Discord's rules are played: the 3-second window to respond, the 15-minute
 * interaction token (on the injected clock), the upload limit, message and command limits,
 * Discord's error codes, the first follow-up after a deferral taking the place (and the visibility)
 * of the "thinking" message, and the Message Content intent for messages read over REST; rate
 * limits are scripted with {@link #rateLimitNext}, latency with {@link #delayNext}. Sharding is
 * played too: {@code GET /gateway/bot} recommends {@link Builder#recommendedShards} shards, an
 * invalid {@code shard} in IDENTIFY closes the session with 4010, a shard with too many guilds with
 * 4011, and a guild's events go only to the session on its shard ({@link DiscordShard}). Every
 * {@code await…} method and every event send waits at most the builder's await timeout, then throws
 * an {@link AssertionError} that lists what was recorded instead.
 *
 * <pre>{@code
 * try (FakeDiscord discord = FakeDiscord.start()) {
 *   JDA jda = JDABuilder.createLight(discord.token(), EnumSet.noneOf(GatewayIntent.class))
 *       .setRestConfig(new RestConfig().setBaseUrl(discord.restBaseUrl()))
 *       .setSessionController(new SessionControllerAdapter() {
 *         public String getGateway() { return discord.gatewayUrl(); }
 *       })
 *       .setCompression(Compression.NONE).addEventListeners(bot).build().awaitReady();
 *   DiscordInteraction imagine = discord.slashCommand(discord.inGuild(FakeDiscord.DEFAULT_USER_ID),
 *       "imagine", Map.of("prompt", "a red fox"));
 *   assertThat(discord.awaitCallback(imagine.id()).type()).isEqualTo(DiscordCallback.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE);
 *   DiscordMessage image = discord.awaitOriginalEdit(imagine.token(), m -> !m.files().isEmpty());
 * }
 * }</pre>
 */
public final class FakeDiscord implements AutoCloseable {
  public static final String DEFAULT_TOKEN =
      "MTIwMDAwMDAwMDAwMDAwMDAwMQ.GfAkE1.testkit-fake-discord-bot-token-0123456789";

  /** The application, and the bot user: the same id, as for every application made today. */
  public static final String DEFAULT_APPLICATION_ID = "1200000000000000001";

  public static final String DEFAULT_BOT_USERNAME = "fluxbot";
  public static final String DEFAULT_GUILD_ID = "1200000000000000100";
  public static final String DEFAULT_CHANNEL_ID = "1200000000000000101";

  /** The default guild's owner, username {@code owner}: all permissions. */
  public static final String DEFAULT_OWNER_ID = "1200000000000000200";

  /** A member of the default guild with no role, username {@code alice}. */
  public static final String DEFAULT_USER_ID = "1200000000000000201";

  /**
   * A member of the default guild with {@link #DEFAULT_MODERATOR_ROLE_ID}, username {@code mod}.
   */
  public static final String DEFAULT_MODERATOR_ID = "1200000000000000202";

  /** The default guild's "Moderators" role: Manage Server. */
  public static final String DEFAULT_MODERATOR_ROLE_ID = "1200000000000000300";

  public static final long DEFAULT_ATTACHMENT_SIZE_LIMIT = 10L * 1024 * 1024;

  /**
   * How long an {@code await…} waits before it fails: generous, because CI machines are shared and
   * slow; a passing test never waits it out.
   */
  public static final Duration DEFAULT_AWAIT_TIMEOUT = Duration.ofSeconds(30);

  private final DiscordEngine engine;

  private FakeDiscord(DiscordEngine engine) {
    this.engine = engine;
  }

  /**
   * Starts a fake with the defaults: {@link #DEFAULT_TOKEN}, the default guild, the system clock.
   */
  public static FakeDiscord start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The default guild: an owner, a plain member, a moderator with Manage Server, one text channel.
   */
  public static DiscordGuild defaultGuild() {
    return DiscordGuild.of(DEFAULT_GUILD_ID, "Fluxbot Test Server", DEFAULT_OWNER_ID)
        .withRole(DiscordRole.of(DEFAULT_MODERATOR_ROLE_ID, "Moderators", DiscordRole.MANAGE_GUILD))
        .withMember(DiscordMember.of(DEFAULT_OWNER_ID, "owner"))
        .withMember(DiscordMember.of(DEFAULT_USER_ID, "alice"))
        .withMember(DiscordMember.of(DEFAULT_MODERATOR_ID, "mod", DEFAULT_MODERATOR_ROLE_ID))
        .withTextChannel(DEFAULT_CHANNEL_ID);
  }

  // --- where to point the client ---

  /**
   * The REST base URL for JDA's {@code RestConfig#setBaseUrl}: {@code
   * http://127.0.0.1:<port>/api/v10/}.
   */
  public String restBaseUrl() {
    return engine.baseUrl() + "/api/v10/";
  }

  /**
   * The host that serves attachments, {@code http://127.0.0.1:<port>}, without a trailing slash.
   */
  public String cdnBaseUrl() {
    return engine.baseUrl();
  }

  /** The gateway, {@code ws://127.0.0.1:<port>/}; also what {@code GET /gateway/bot} answers. */
  public String gatewayUrl() {
    return engine.gatewayUrl();
  }

  public String token() {
    return engine.config().token();
  }

  public String applicationId() {
    return engine.config().applicationId();
  }

  public String botUserId() {
    return engine.config().botUserId();
  }

  /**
   * The guilds as the fake runs them: with {@code @everyone}, the bot and its role, a text channel
   * each.
   */
  public List<DiscordGuild> guilds() {
    return engine.guilds();
  }

  /** A member of the first guild, in its first text channel. */
  public DiscordContext inGuild(String userId) {
    DiscordGuild first = engine.guilds().get(0);
    return DiscordContext.guild(first.id(), first.textChannelIds().get(0), userId);
  }

  /** A user in their DM with the bot. */
  public DiscordContext inDm(String userId) {
    return DiscordContext.dm(userId);
  }

  /** The id of the user's DM channel with the bot, opened now if it was not yet. */
  public String dmChannelId(String userId) {
    return engine.dmChannelId(userId);
  }

  // --- what users do ---

  /**
   * Stores a file on the CDN, as Discord does with a file a user attaches to a slash command. Pass
   * the result as an option value of {@link #slashCommand} or to {@link #postMessageAsUser}.
   */
  public DiscordAttachment addAttachment(byte[] bytes, String filename, String contentType) {
    Objects.requireNonNull(bytes, "bytes");
    Objects.requireNonNull(filename, "filename");
    return engine.addAttachment(
        bytes, filename, contentType, engine.guilds().get(0).textChannelIds().get(0));
  }

  /** A message a user posted (no event is sent), e.g. the target of {@link #messageContextMenu}. */
  public DiscordMessage postMessageAsUser(
      DiscordContext where, String content, DiscordAttachment... attachments) {
    return engine.postMessageAsUser(where, content, List.of(attachments));
  }

  /**
   * Sends a slash command's {@code INTERACTION_CREATE}, waiting (bounded) for a client to be on the
   * gateway. Options are typed by the registered command when there is one; otherwise by value:
   * String 3, Integer/Long 4, Boolean 5, {@link DiscordMention} 6/7/8, Double 10, {@link
   * DiscordAttachment} 11 (put into {@code resolved.attachments}).
   *
   * @param command the command's full name: {@code imagine}, or {@code fluxbot-admin quota set}
   * @param options in the order the user typed them, when the map keeps an order
   */
  public DiscordInteraction slashCommand(
      DiscordContext where, String command, Map<String, ?> options) {
    return engine.slashCommand(where, command, options);
  }

  /**
   * A press of the button with {@code customId} on a message the fake knows (the bot's, usually).
   */
  public DiscordInteraction button(DiscordContext where, String messageId, String customId) {
    return engine.button(where, messageId, customId);
  }

  /**
   * A submit of the modal with {@code customId}, shaped like the modal the bot last showed with
   * that id (labels or action rows); {@code fields} maps each text input's custom id to its value.
   * A modal shown from a button carries that button's message.
   */
  public DiscordInteraction modalSubmit(
      DiscordContext where, String customId, Map<String, String> fields) {
    return engine.modalSubmit(where, customId, fields);
  }

  /** A message context-menu command (type 2, {@code data.type} 3) on a message the fake knows. */
  public DiscordInteraction messageContextMenu(
      DiscordContext where, String name, String targetMessageId) {
    return engine.messageContextMenu(where, name, targetMessageId);
  }

  // --- the gateway ---

  /**
   * Sends op 0 with the next {@code s} to every live session whose shard gets it (that of its
   * {@code guild_id}, or shard 0 for no guild), waiting (bounded) for one to exist.
   */
  public void dispatch(String event, JsonNode data) {
    engine.dispatch(event, data);
  }

  /** Sends op 7 RECONNECT on every connection: the client reconnects and resumes. */
  public void requestReconnect() {
    engine.requestReconnect();
  }

  /** Sends op 9 INVALID SESSION with {@code d = resumable} on every connection. */
  public void invalidateSessions(boolean resumable) {
    engine.invalidateSessions(resumable);
  }

  /**
   * Closes every gateway connection from the server's side with {@code code}; sessions stay
   * resumable.
   */
  public void disconnectGateway(int code) {
    engine.disconnectGateway(code, "closed by the test");
  }

  /** Sessions identified and not ended by their client (closing with 1000 or 1001 ends one). */
  public int liveGatewaySessions() {
    return engine.liveGatewaySessions();
  }

  /** The live sessions' shards, in the order they identified ({@code [0, 1]} for no shard). */
  public List<DiscordShard> liveGatewayShards() {
    return engine.liveGatewayShards();
  }

  /** Every frame clients sent on the gateway (IDENTIFY, heartbeats, RESUME, …), in order. */
  public List<JsonNode> gatewayFrames() {
    return engine.gatewayFrames();
  }

  /**
   * The first frame a client sent on the gateway that matches, e.g. {@code f ->
   * f.path("op").asInt() == 6}.
   */
  public JsonNode awaitGatewayFrame(Predicate<JsonNode> predicate) {
    return engine.awaitGatewayFrame(predicate, "matching gateway frame from a client");
  }

  /** Waits until exactly {@code count} sessions are live, e.g. 0 after the client shut down. */
  public void awaitLiveGatewaySessions(int count) {
    engine.awaitLiveGatewaySessions(count);
  }

  // --- what the bot did ---

  /**
   * The response to an interaction; waits up to the await timeout, then fails with what was
   * recorded.
   */
  public DiscordCallback awaitCallback(String interactionId) {
    return engine.await(
        callbacks ->
            callbacks.stream().filter(c -> c.interactionId().equals(interactionId)).findFirst(),
        "callback for interaction " + interactionId);
  }

  /** The first edit of {@code @original} through {@code token} that matches. */
  public DiscordMessage awaitOriginalEdit(String token, Predicate<DiscordMessage> predicate) {
    return awaitMessage(
        m ->
            m.kind() == DiscordMessage.Kind.ORIGINAL_EDIT
                && token.equals(m.token())
                && predicate.test(m),
        "matching edit of @original through token " + token);
  }

  /**
   * The first follow-up ({@code POST /webhooks/{app}/{token}}) through {@code token} that matches.
   */
  public DiscordMessage awaitFollowup(String token, Predicate<DiscordMessage> predicate) {
    return awaitMessage(
        m ->
            m.kind() == DiscordMessage.Kind.FOLLOWUP
                && token.equals(m.token())
                && predicate.test(m),
        "matching follow-up through token " + token);
  }

  /** The first new message ({@code POST /channels/{id}/messages}) in the channel that matches. */
  public DiscordMessage awaitChannelMessage(String channelId, Predicate<DiscordMessage> predicate) {
    return awaitMessage(
        m ->
            m.kind() == DiscordMessage.Kind.CHANNEL_MESSAGE
                && m.channelId().equals(channelId)
                && predicate.test(m),
        "matching new message in channel " + channelId);
  }

  /** The first message write of any kind that matches. */
  public DiscordMessage awaitMessage(Predicate<DiscordMessage> predicate) {
    return awaitMessage(predicate, "matching message write");
  }

  private DiscordMessage awaitMessage(Predicate<DiscordMessage> predicate, String what) {
    return engine.awaitMessage(predicate, what);
  }

  /** Every HTTP request (REST and CDN), in arrival order, with the status it got. */
  public List<DiscordRequest> requests() {
    return engine.requests();
  }

  /** The REST requests on a route like {@code PATCH /webhooks/{app}/{token}/messages/@original}. */
  public List<DiscordRequest> requests(String route) {
    return engine.requests(route);
  }

  /**
   * The first REST request on {@code route} that matches, with the status it got, e.g. the upload
   * Discord finally took after scripted failures. A request is recorded together with its effect:
   * once a test sees the message a request wrote, {@link #requests} lists that request.
   */
  public DiscordRequest awaitRequest(String route, Predicate<DiscordRequest> predicate) {
    return engine.awaitRequest(route, predicate);
  }

  /** Every interaction response the fake accepted, in order. */
  public List<DiscordCallback> callbacks() {
    return engine.callbacks();
  }

  /** Every message write the fake accepted, in order. */
  public List<DiscordMessage> messages() {
    return engine.messages();
  }

  /** A message as it stands now. */
  public Optional<JsonNode> message(String messageId) {
    return engine.message(messageId);
  }

  /** The global commands as last registered, each with the id Discord gave it. */
  public List<JsonNode> registeredCommands() {
    return engine.registeredCommands("");
  }

  public List<JsonNode> registeredCommands(String guildId) {
    return engine.registeredCommands(guildId);
  }

  // --- scripting ---

  /**
   * Answers the next request on {@code route} with 429, {@code Retry-After}, the {@code
   * X-RateLimit-*} headers and {@code {"message": "You are being rate limited.", "retry_after": …,
   * "global": false}}, once. JDA rounds the wait up to whole seconds.
   *
   * @param route {@code [METHOD ]/path} below {@code /api/v10}; {@code {name}} matches any one
   *     segment
   */
  public void rateLimitNext(String route, double retryAfterSeconds) {
    engine.rateLimitNext(route, retryAfterSeconds, false);
  }

  /**
   * The same 429 as {@link #rateLimitNext(String, double)}, for each of the next {@code times}
   * requests on {@code route}.
   */
  public void rateLimitNext(String route, double retryAfterSeconds, int times) {
    engine.rateLimitNext(route, retryAfterSeconds, false, times);
  }

  /**
   * The same 429 for each of the next {@code times} requests on {@code route} that upload files
   * (multipart with {@code files[n]}); other requests on the route pass, e.g. a bot's progress
   * edits of the message its image goes into.
   */
  public void rateLimitNextUpload(String route, double retryAfterSeconds, int times) {
    engine.rateLimitNext(route, retryAfterSeconds, true, times);
  }

  /**
   * Answers the next request on {@code route} with {@code status} and {@code {"message", "code"}},
   * once.
   */
  public void failNext(String route, int status, int code, String message) {
    engine.failNext(route, status, code, message, false);
  }

  /**
   * Answers each of the next {@code times} requests on {@code route} with {@code status} and {@code
   * {"message", "code"}}, e.g. a 503 that outlasts JDA's own retries of a 5xx.
   */
  public void failNext(String route, int status, int code, String message, int times) {
    engine.failNext(route, status, code, message, false, times);
  }

  /**
   * Fails each of the next {@code times} requests on {@code route} that upload files, as {@link
   * #failNext(String, int, int, String, int)} does; other requests on the route pass.
   */
  public void failNextUpload(String route, int status, int code, String message, int times) {
    engine.failNext(route, status, code, message, true, times);
  }

  /**
   * Holds the next request on {@code route} for {@code delay} before it takes effect, as network
   * and Discord's own queues do: a request the client sends after it, on another route, may take
   * effect first. {@link #requests} lists requests in the order they took effect.
   *
   * @param route {@code [METHOD ]/path} below {@code /api/v10}; {@code {name}} matches any one
   *     segment
   */
  public void delayNext(String route, Duration delay) {
    engine.delayNext(route, Objects.requireNonNull(delay, "delay"));
  }

  /** Each uploaded file must be at most this big, or the request gets 413 (code 40005). */
  public void setAttachmentSizeLimit(long bytes) {
    if (bytes <= 0)
      throw new IllegalArgumentException(
          "The attachment size limit must be positive. Provided: " + bytes);
    engine.setAttachmentSizeLimit(bytes);
  }

  public long attachmentSizeLimit() {
    return engine.attachmentSizeLimit();
  }

  /** Stops the servers; clients see their connections drop. */
  @Override
  public void close() {
    engine.close();
  }

  @Override
  public String toString() {
    return "FakeDiscord[" + restBaseUrl() + ", gateway " + gatewayUrl() + "]";
  }

  /** Options for a fake; {@link #start()} binds the ports. */
  public static final class Builder {
    private String token = DEFAULT_TOKEN;
    private String applicationId = DEFAULT_APPLICATION_ID;
    private String botUserId;
    private String botUsername = DEFAULT_BOT_USERNAME;
    private final List<DiscordGuild> guilds = new ArrayList<>();
    private InstantSource clock = InstantSource.system();
    private Duration awaitTimeout = DEFAULT_AWAIT_TIMEOUT;
    private Duration heartbeatInterval = Duration.ofMillis(41_250);
    private long attachmentSizeLimit = DEFAULT_ATTACHMENT_SIZE_LIMIT;
    private boolean messageContentIntent;
    private int recommendedShards = 1;
    private int maxConcurrency = 1;
    private int maxGuildsPerShard = DiscordShard.MAX_GUILDS;

    private Builder() {}

    /** {@code shards} of {@code GET /gateway/bot}: the shards Discord recommends (default 1). */
    public Builder recommendedShards(int shards) {
      this.recommendedShards = shards;
      return this;
    }

    /** {@code max_concurrency} of {@code GET /gateway/bot}: IDENTIFYs per 5 s (default 1). */
    public Builder maxConcurrency(int sessions) {
      this.maxConcurrency = sessions;
      return this;
    }

    /** More guilds than this on one shard close its session with 4011 (default 2,500). */
    public Builder maxGuildsPerShard(int guilds) {
      this.maxGuildsPerShard = guilds;
      return this;
    }

    /** The bot token the fake accepts, without the {@code Bot } prefix. */
    public Builder token(String token) {
      this.token = Objects.requireNonNull(token, "token");
      return this;
    }

    public Builder applicationId(String applicationId) {
      DiscordRole.Snowflake.check("applicationId", applicationId);
      this.applicationId = applicationId;
      return this;
    }

    /**
     * The bot user; by default its id is the application's and its name {@value
     * #DEFAULT_BOT_USERNAME}.
     */
    public Builder botUser(String userId, String username) {
      DiscordRole.Snowflake.check("userId", userId);
      this.botUserId = userId;
      this.botUsername = Objects.requireNonNull(username, "username");
      return this;
    }

    /** Adds a guild; without any, the fake has {@link #defaultGuild()}. */
    public Builder guild(DiscordGuild guild) {
      guilds.add(Objects.requireNonNull(guild, "guild"));
      return this;
    }

    /**
     * The clock for interaction windows and tokens, and timestamps; a {@link MutableClock} in
     * tests.
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** How long the {@code await…} methods and event sends wait before they fail. */
    public Builder awaitTimeout(Duration timeout) {
      this.awaitTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** The {@code heartbeat_interval} of HELLO. */
    public Builder heartbeatInterval(Duration interval) {
      this.heartbeatInterval = Objects.requireNonNull(interval, "interval");
      return this;
    }

    public Builder attachmentSizeLimit(long bytes) {
      if (bytes <= 0)
        throw new IllegalArgumentException(
            "The attachment size limit must be positive. Provided: " + bytes);
      this.attachmentSizeLimit = bytes;
      return this;
    }

    /**
     * Whether the application has the privileged Message Content intent (off by default, as for a
     * bot that never asked for it). Without it, a user's message fetched over REST comes with empty
     * {@code content}, {@code embeds}, {@code attachments} and {@code components}, unless it is in
     * a DM or mentions the bot; a message command's target in the interaction is complete either
     * way.
     */
    public Builder messageContentIntent(boolean enabled) {
      this.messageContentIntent = enabled;
      return this;
    }

    public FakeDiscord start() {
      List<DiscordGuild> configured =
          guilds.isEmpty() ? List.of(defaultGuild()) : List.copyOf(guilds);
      String botId = botUserId == null ? applicationId : botUserId;
      return new FakeDiscord(
          DiscordEngine.start(
              new EngineConfig(
                  token,
                  applicationId,
                  botId,
                  botUsername,
                  configured,
                  clock,
                  awaitTimeout,
                  (int) heartbeatInterval.toMillis(),
                  attachmentSizeLimit,
                  messageContentIntent,
                  recommendedShards,
                  maxConcurrency,
                  maxGuildsPerShard)));
    }
  }
}
