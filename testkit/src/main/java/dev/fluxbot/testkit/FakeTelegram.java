package dev.fluxbot.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.telegram.Hold;
import dev.fluxbot.testkit.telegram.Pace;
import dev.fluxbot.testkit.telegram.TelegramCall;
import dev.fluxbot.testkit.telegram.TelegramContext;
import dev.fluxbot.testkit.telegram.TelegramEngine;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * A scriptable loopback fake of the Telegram Bot API that the real telegrambots client talks to,
 * for tests that drive a bot over real sockets.
 *
 * <p>It answers {@code /bot<token>/<method>} (method names in any case) and serves files at {@code
 * /file/bot<token>/<file_path>}. Users act through {@link #sendText}, {@link #sendPhotos} (one
 * photo, or an album sharing a {@code media_group_id}), {@link #sendDocument} and {@link
 * #pressButton}; each queues updates that {@code getUpdates} hands out as Telegram does (confirmed
 * by {@code offset}, held up to {@code timeout}, a second poller ends the first with 409). Every
 * request is recorded with its parameters and multipart file parts; the bot's messages are kept, so
 * edits, replies and button presses work on them. Telegram's limits are played (text 4096, caption
 * 1024, callback data 64 bytes, photos 10 MB and their dimensions, documents 50 MB, downloads 20
 * MB, "message is not modified"); 429s are scripted with {@link #rateLimitNext}. Built with a
 * {@link Pace}, it answers a message or edit that comes too soon after the chat's previous one with
 * 429, as Telegram does, and lists it in {@link #paceViolations}; with {@link Builder#privacyMode},
 * a group shows the bot only the messages meant for it.
 *
 * <pre>{@code
 * try (FakeTelegram telegram = FakeTelegram.start()) {
 *   TelegramClient client = new OkHttpTelegramClient(new OkHttpClient(), telegram.token(), telegram.telegramUrl());
 *   // … register a long-polling bot with telegram.telegramUrl() …
 *   telegram.sendText(FakeTelegram.privateChat(FakeTelegram.ALICE), "/imagine a red fox");
 *   TelegramCall photo = telegram.awaitCall("sendPhoto", c -> true);
 * }
 * }</pre>
 */
public final class FakeTelegram implements AutoCloseable {
  public static final String DEFAULT_TOKEN = "123456789:AAFakeTelegramTestkitToken-0123456789ab";
  public static final long DEFAULT_BOT_ID = 123456789L;
  public static final String DEFAULT_BOT_USERNAME = "fluxbot_test_bot";

  /**
   * How long an {@code await…} waits before it fails: generous, because CI machines are shared and
   * slow; a passing test never waits it out.
   */
  public static final Duration DEFAULT_AWAIT_TIMEOUT = Duration.ofSeconds(30);

  /** A user, first name {@code Alice}, username {@code alice}. */
  public static final long ALICE = 1001;

  /** A user, first name {@code Bob}, username {@code bob}. */
  public static final long BOB = 1002;

  /** The default group; its creator is {@link #OWNER}. */
  public static final long GROUP = -1001234567890L;

  /** The creator of {@link #GROUP}, username {@code owner}. */
  public static final long OWNER = 1000;

  private final TelegramEngine engine;

  private FakeTelegram(TelegramEngine engine) {
    this.engine = engine;
    engine.addUser(OWNER, "Owner", "owner");
    engine.addUser(ALICE, "Alice", "alice");
    engine.addUser(BOB, "Bob", "bob");
    engine.setCreator(GROUP, OWNER);
  }

  public static FakeTelegram start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  public static TelegramContext privateChat(long userId) {
    return TelegramContext.privateChat(userId);
  }

  /** A user in {@link #GROUP}. */
  public static TelegramContext inGroup(long userId) {
    return TelegramContext.group(GROUP, userId);
  }

  // --- where to point the client ---

  public String token() {
    return engine.config().token();
  }

  public String botUsername() {
    return engine.config().botUsername();
  }

  public long botId() {
    return engine.config().botId();
  }

  public int port() {
    return engine.port();
  }

  /** {@code http://127.0.0.1:<port>}: the base of both the API and the file downloads. */
  public String baseUrl() {
    return "http://127.0.0.1:" + engine.port();
  }

  // --- the world ---

  /** Makes a user known by name (unknown users are {@code User<id>}). */
  public void addUser(long id, String firstName, String username) {
    engine.addUser(id, firstName, username);
  }

  /**
   * The language of a user's Telegram app, sent as {@code from.language_code} ({@code en} unless
   * set); null leaves it out, as Telegram does for some users.
   */
  public void setLanguage(long userId, String languageCode) {
    engine.setLanguage(userId, languageCode);
  }

  /**
   * Makes a user an administrator of a group, or a plain member again; {@code getChatMember} says
   * so.
   */
  public void setAdministrator(long chatId, long userId, boolean admin) {
    engine.setAdministrator(chatId, userId, admin);
  }

  // --- what users do ---

  /**
   * A text message; a leading {@code /command} gets its {@code bot_command} entity. Returns the
   * message.
   */
  public JsonNode sendText(TelegramContext where, String text) {
    return engine.userMessage(where, Objects.requireNonNull(text, "text"), null);
  }

  /**
   * A text message from a group administrator who remains anonymous (Telegram's "Remain anonymous"
   * right): from {@code GroupAnonymousBot}, with the group as {@code sender_chat}. The user must be
   * an administrator of the group ({@link #setAdministrator}).
   */
  public JsonNode sendTextAnonymously(TelegramContext where, String text) {
    return engine.anonymousAdminMessage(where, text);
  }

  /**
   * A text message replying to {@code messageId} (the reply carries that message, as Telegram nests
   * it).
   */
  public JsonNode replyText(TelegramContext where, long messageId, String text) {
    return engine.userMessage(where, Objects.requireNonNull(text, "text"), messageId);
  }

  /**
   * Photos as a user sends them: one message, or for several an album (one update each, sharing a
   * {@code media_group_id}, delivered together) with the caption on the first. Each photo lists a
   * small JPEG thumbnail and then the image itself (the bytes given, kept as they are).
   */
  public List<JsonNode> sendPhotos(TelegramContext where, String caption, byte[]... images) {
    return sendPhotos(where, caption, 0, List.of(images));
  }

  /** An album with the caption on item {@code captionIndex}. */
  public List<JsonNode> sendPhotos(
      TelegramContext where, String caption, int captionIndex, List<byte[]> images) {
    if (images.isEmpty() || images.size() > 10) {
      throw new IllegalArgumentException(
          "images: an album has 1 to 10 items; got " + images.size());
    }
    return List.copyOf(engine.userPhotos(where, caption, captionIndex, images, null));
  }

  /** A file sent as a document (not compressed), with an optional caption. */
  public JsonNode sendDocument(
      TelegramContext where, String caption, byte[] bytes, String filename, String mimeType) {
    return engine.userDocument(where, caption, bytes, filename, mimeType);
  }

  /** A press of an inline button: queues a {@code callback_query}; returns its id. */
  public String pressButton(TelegramContext where, long messageId, String callbackData) {
    return engine.pressButton(where, messageId, callbackData);
  }

  // --- what the bot did ---

  /**
   * Every request, in arrival order (file downloads as method {@code file}). A call is recorded
   * together with its effect: once a test sees an edited message, the edit is listed here.
   */
  public List<TelegramCall> calls() {
    return engine.calls();
  }

  /** The requests of one method, any case. */
  public List<TelegramCall> calls(String method) {
    return engine.calls().stream().filter(c -> c.is(method)).toList();
  }

  /** The first successful call of {@code method} that matches; waits up to the await timeout. */
  public TelegramCall awaitCall(String method, Predicate<TelegramCall> predicate) {
    return engine.await(
        c -> c.is(method) && c.ok() && predicate.test(c), "successful " + method + " that matches");
  }

  /** The first call of any method and outcome that matches. */
  public TelegramCall awaitAny(Predicate<TelegramCall> predicate, String what) {
    return engine.await(predicate, what);
  }

  /** A message as it stands now (after edits); empty if unknown or deleted. */
  public Optional<JsonNode> message(long chatId, long messageId) {
    return engine.message(chatId, messageId);
  }

  /** Whether the bot answered a callback query; empty for an unknown id. */
  public Optional<Boolean> callbackAnswered(String queryId) {
    return engine.callbackAnswered(queryId);
  }

  /** The bytes of a stored file (a user's or one the bot sent). */
  public Optional<byte[]> file(String fileId) {
    return engine.file(fileId);
  }

  /**
   * The webhook {@code setWebhook} set, if any. While one is set, updates are POSTed to it with the
   * {@code X-Telegram-Bot-Api-Secret-Token} header (recorded as method {@code webhook}, with the
   * status the bot answered), an update it refuses is sent again, and {@code getUpdates} answers
   * 409.
   */
  public Optional<String> webhookUrl() {
    return engine.webhookUrl();
  }

  /** {@code getUpdates} calls held open right now, waiting for an update. */
  public int heldPolls() {
    return engine.heldPolls();
  }

  /** Updates not yet confirmed by a later {@code getUpdates} offset. */
  public int pendingUpdates() {
    return engine.pendingUpdates();
  }

  /**
   * Every message or edit the bot sent sooner than the fake's {@link Pace} allows; empty without a
   * pace.
   */
  public List<Pace.Violation> paceViolations() {
    return engine.paceViolations();
  }

  // --- scripting ---

  /**
   * Keeps the next request of {@code method} in flight (arrived, no effect, no answer) until the
   * returned hold is released: for tests that force the order of two calls.
   */
  public Hold holdNext(String method) {
    return engine.holdNext(method);
  }

  /**
   * Answers the next call of {@code method} with 429 {@code Too Many Requests: retry after N} and
   * {@code parameters.retry_after}, once.
   */
  public void rateLimitNext(String method, int retryAfterSeconds) {
    engine.failNext(
        method, 429, "Too Many Requests: retry after " + retryAfterSeconds, retryAfterSeconds);
  }

  /** Answers the next call of {@code method} with {@code status} and {@code description}, once. */
  public void failNext(String method, int status, String description) {
    engine.failNext(method, status, description, null);
  }

  @Override
  public void close() {
    engine.close();
  }

  @Override
  public String toString() {
    return "FakeTelegram[" + baseUrl() + "]";
  }

  /** Options for a fake; {@link #start()} binds the port. */
  public static final class Builder {
    private String token = DEFAULT_TOKEN;
    private long botId = DEFAULT_BOT_ID;
    private String botUsername = DEFAULT_BOT_USERNAME;
    private Duration awaitTimeout = DEFAULT_AWAIT_TIMEOUT;
    private InstantSource clock = InstantSource.system();
    private Pace pace;
    private boolean privacyMode;

    private Builder() {}

    public Builder token(String token) {
      if (!Objects.requireNonNull(token, "token").matches("\\d+:[\\w-]+")) {
        throw new IllegalArgumentException(
            "token: must look like <bot id>:<secret>; got a value of length " + token.length());
      }
      this.token = token;
      this.botId = Long.parseLong(token.substring(0, token.indexOf(':')));
      return this;
    }

    public Builder botUsername(String botUsername) {
      this.botUsername = Objects.requireNonNull(botUsername, "botUsername");
      return this;
    }

    public Builder awaitTimeout(Duration awaitTimeout) {
      this.awaitTimeout = Objects.requireNonNull(awaitTimeout, "awaitTimeout");
      return this;
    }

    /**
     * Enforces Telegram's per-chat pace on the bot, measured on the fake's {@link #clock}: a
     * message or edit too soon after the chat's previous one is answered 429 with {@code
     * retry_after} and listed in {@link #paceViolations()}.
     */
    public Builder pace(Pace pace) {
      this.pace = Objects.requireNonNull(pace, "pace");
      return this;
    }

    /**
     * Privacy mode, as Telegram sets it for new bots: in a group where the bot is not an
     * administrator ({@link #setAdministrator} with {@link #botId()}), only commands and replies to
     * the bot's messages reach it; of an album, only the item whose caption holds the command.
     */
    public Builder privacyMode(boolean on) {
      this.privacyMode = on;
      return this;
    }

    /** The clock that dates messages (and measures the pace). */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public FakeTelegram start() {
      return new FakeTelegram(
          TelegramEngine.start(
              new TelegramEngine.Config(
                  token, botId, botUsername, awaitTimeout, clock, pace, privacyMode)));
    }
  }
}
