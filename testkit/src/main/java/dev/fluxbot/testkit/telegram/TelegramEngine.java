package dev.fluxbot.testkit.telegram;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.fluxbot.testkit.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The machinery behind {@code FakeTelegram}; use that class. A JDK HTTP server on loopback (virtual
 * threads) whose {@link BotApiHandler} answers {@code /bot<token>/<method>} and {@code
 * /file/bot<token>/<path>}; one lock guards the chats, messages, files ({@link FileStore}), the
 * pace ({@link Pacing}) and the records. {@link BotMethods} runs the methods; {@link Webhooks}
 * pushes updates once a webhook is set.
 */
public final class TelegramEngine implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  static final long MAX_PHOTO_BYTES = 10L * 1024 * 1024;
  static final long MAX_DOCUMENT_BYTES = 50L * 1024 * 1024;
  static final long MAX_DOWNLOAD_BYTES = 20L * 1024 * 1024;

  /**
   * What a fake is made with.
   *
   * @param pace the chats' pace the bot must keep (null: none enforced)
   * @param privacyMode a group shows the bot only what is meant for it (commands, replies to the
   *     bot), unless the bot is an administrator there, as Telegram does with privacy mode on
   */
  public record Config(
      String token,
      long botId,
      String botUsername,
      Duration awaitTimeout,
      InstantSource clock,
      Pace pace,
      boolean privacyMode) {}

  private record Failure(int status, String description, Integer retryAfter) {}

  private final Config config;
  private final HttpServer http;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final Updates updates = new Updates();
  private final ReentrantLock lock = new ReentrantLock();
  private final List<TelegramCall> calls = new ArrayList<>();
  private final Map<Long, ObjectNode> users = new HashMap<>();
  private final Map<Long, TelegramContext> chats = new HashMap<>();
  private final Map<Long, Map<Long, ObjectNode>> messages = new HashMap<>();
  private final FileStore files = new FileStore();
  private final Pacing pacing;
  private final Webhooks webhooks;

  /** The user Telegram sends an anonymous group administrator's messages from. */
  static final long ANONYMOUS_ADMIN_BOT_ID = 1087968824L;

  private final Map<Long, Set<Long>> administrators = new HashMap<>();
  private final Map<Long, Long> creators = new HashMap<>();
  private final Map<String, Boolean> callbackQueries = new LinkedHashMap<>(); // id -> answered
  private final Map<String, Deque<Failure>> scripted = new HashMap<>();
  private final Map<String, Deque<Hold>> holds = new HashMap<>();
  private long nextMessageId = 100;
  private long nextMediaGroup = 13_000_000_000_000_000L;
  private long nextQuery = 4_000_000_000_000_000_000L;

  private TelegramEngine(Config config) throws IOException {
    this.config = config;
    this.pacing = new Pacing(config.pace(), config.clock(), chats);
    this.webhooks = new Webhooks(updates, executor, this::record);
    this.http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    http.createContext("/", new BotApiHandler(this));
    http.setExecutor(executor);
    http.start();
    executor.execute(webhooks::pushLoop);
  }

  public static TelegramEngine start(Config config) {
    try {
      return new TelegramEngine(config);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not bind the fake Telegram Bot API on loopback", e);
    }
  }

  public Config config() {
    return config;
  }

  public int port() {
    return http.getAddress().getPort();
  }

  // --- the world ---

  public void setLanguage(long id, String languageCode) {
    locked(
        () -> {
          ObjectNode u =
              users.computeIfAbsent(id, x -> Shapes.user(x, "User" + x, "user" + x, false));
          if (languageCode == null) {
            u.remove("language_code");
          } else {
            u.put("language_code", languageCode);
          }
          return null;
        });
  }

  public void addUser(long id, String firstName, String username) {
    locked(() -> users.put(id, Shapes.user(id, firstName, username, false)));
  }

  public void setCreator(long chatId, long userId) {
    locked(() -> creators.put(chatId, userId));
  }

  public void setAdministrator(long chatId, long userId, boolean admin) {
    locked(
        () -> {
          Set<Long> set = administrators.computeIfAbsent(chatId, c -> new HashSet<>());
          return admin ? set.add(userId) : set.remove(userId);
        });
  }

  private ObjectNode userNode(long id) {
    return users.computeIfAbsent(id, u -> Shapes.user(u, "User" + u, "user" + u, false)).deepCopy();
  }

  ObjectNode botNode() {
    return Shapes.user(config.botId(), "Fluxbot", config.botUsername(), true);
  }

  private ObjectNode chatNode(TelegramContext where) {
    ObjectNode user = userNode(where.userId());
    return Shapes.chat(where, user.path("first_name").asText(), user.path("username").asText(null));
  }

  // --- what users do ---

  /** A message from a user; queued as an update. Returns the message as the bot will see it. */
  public ObjectNode userMessage(TelegramContext where, String text, Long replyToMessageId) {
    return locked(
        () -> {
          ObjectNode m = newUserMessage(where, replyToMessageId);
          if (text != null) {
            texted(m, text);
          }
          return enqueueMessage(m);
        });
  }

  /**
   * A message from a group administrator who remains anonymous: Telegram sends it from its {@code
   * GroupAnonymousBot} user with the group itself as {@code sender_chat}. Only the group's
   * administrators (and its creator) can post so.
   */
  public ObjectNode anonymousAdminMessage(TelegramContext where, String text) {
    return locked(
        () -> {
          if (where.isPrivate() || memberStatus(where.chatId(), where.userId()).equals("member")) {
            throw new IllegalArgumentException(
                "only a group's administrators can post anonymously (as the group); user "
                    + where.userId()
                    + " is not one in chat "
                    + where.chatId()
                    + " (setAdministrator first)");
          }
          ObjectNode m = newUserMessage(where, null);
          m.set("from", Shapes.user(ANONYMOUS_ADMIN_BOT_ID, "Group", "GroupAnonymousBot", true));
          m.set("sender_chat", chatNode(where));
          texted(m, Objects.requireNonNull(text, "text"));
          return enqueueMessage(m);
        });
  }

  /**
   * One photo message per image; several share a {@code media_group_id}, the caption goes on {@code
   * captionIndex}.
   */
  public List<ObjectNode> userPhotos(
      TelegramContext where,
      String caption,
      int captionIndex,
      List<byte[]> images,
      Long replyToMessageId) {
    return locked(
        () -> {
          String group = images.size() > 1 ? Long.toString(nextMediaGroup++) : null;
          List<ObjectNode> album = new ArrayList<>();
          for (int i = 0; i < images.size(); i++) {
            ObjectNode m = newUserMessage(where, replyToMessageId);
            m.set("photo", files.photoSizes(images.get(i)));
            if (group != null) {
              m.put("media_group_id", group);
            }
            if (caption != null && i == captionIndex) {
              captioned(m, caption);
            }
            store(m);
            album.add(m);
          }
          updates.addAll(
              album.stream()
                  .filter(this::reachesBot)
                  .map(m -> (ObjectNode) Shapes.F.objectNode().set("message", m.deepCopy()))
                  .toList());
          return album;
        });
  }

  /** A file sent "as a document" (uncompressed). */
  public ObjectNode userDocument(
      TelegramContext where, String caption, byte[] bytes, String filename, String mimeType) {
    return locked(
        () -> {
          ObjectNode m = newUserMessage(where, null);
          m.set("document", files.document(bytes, filename, mimeType));
          if (caption != null) {
            captioned(m, caption);
          }
          return enqueueMessage(m);
        });
  }

  /** A press of an inline button on a message the fake knows; returns the callback query's id. */
  public String pressButton(TelegramContext where, long messageId, String data) {
    return locked(
        () -> {
          ObjectNode message =
              storedMessage(where.chatId(), messageId)
                  .orElseThrow(
                      () ->
                          new IllegalArgumentException(
                              "no message " + messageId + " in chat " + where.chatId()));
          String id = Long.toString(nextQuery++);
          callbackQueries.put(id, false);
          ObjectNode query = Shapes.F.objectNode().put("id", id);
          query.set("from", userNode(where.userId()));
          query.set("message", message.deepCopy());
          query.put("chat_instance", Long.toString(where.chatId() * 31));
          query.put("data", data);
          updates.add((ObjectNode) Shapes.F.objectNode().set("callback_query", query));
          return id;
        });
  }

  private ObjectNode newUserMessage(TelegramContext where, Long replyTo) {
    chats.put(where.chatId(), where);
    ObjectNode m = Shapes.F.objectNode().put("message_id", nextMessageId++);
    m.set("from", userNode(where.userId()));
    m.set("chat", chatNode(where));
    m.put("date", config.clock().instant().getEpochSecond());
    if (replyTo != null) {
      ObjectNode target =
          storedMessage(where.chatId(), replyTo)
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "no message " + replyTo + " in chat " + where.chatId()));
      ObjectNode copy = target.deepCopy();
      copy.remove("reply_to_message"); // Telegram nests one level only
      m.set("reply_to_message", copy);
    }
    return m;
  }

  private static void texted(ObjectNode m, String text) {
    m.put("text", text);
    ArrayNode entities = Shapes.commandEntities(text);
    if (!entities.isEmpty()) {
      m.set("entities", entities);
    }
  }

  private static void captioned(ObjectNode m, String caption) {
    m.put("caption", caption);
    ArrayNode entities = Shapes.commandEntities(caption);
    if (!entities.isEmpty()) {
      m.set("caption_entities", entities);
    }
  }

  private ObjectNode enqueueMessage(ObjectNode m) {
    store(m);
    if (reachesBot(m)) {
      updates.add((ObjectNode) Shapes.F.objectNode().set("message", m.deepCopy()));
    }
    return m.deepCopy();
  }

  /**
   * Whether the bot gets a user's message. With privacy mode on, in a group where the bot is not an
   * administrator, only a command (for this bot, or for no bot in particular) and a reply to one of
   * the bot's messages reach it; the other items of an album with a command in its caption do not.
   */
  private boolean reachesBot(ObjectNode m) {
    long chatId = m.path("chat").path("id").asLong();
    if (!config.privacyMode()
        || m.path("chat").path("type").asText().equals("private")
        || !memberStatus(chatId, config.botId()).equals("member")) {
      return true;
    }
    if (m.path("reply_to_message").path("from").path("id").asLong() == config.botId()) {
      return true;
    }
    String text = m.has("text") ? m.path("text").asText() : m.path("caption").asText("");
    if (!text.startsWith("/")) {
      return false;
    }
    String command = text.split("\\s", 2)[0];
    int at = command.indexOf('@');
    return at < 0 || command.substring(at + 1).equalsIgnoreCase(config.botUsername());
  }

  private void store(ObjectNode m) {
    messages
        .computeIfAbsent(m.path("chat").path("id").asLong(), c -> new LinkedHashMap<>())
        .put(m.path("message_id").asLong(), m);
  }

  private Optional<ObjectNode> storedMessage(long chatId, long messageId) {
    return Optional.ofNullable(messages.getOrDefault(chatId, Map.of()).get(messageId));
  }

  // --- scripting ---

  public void failNext(String method, int status, String description, Integer retryAfter) {
    locked(
        () ->
            scripted
                .computeIfAbsent(method.toLowerCase(Locale.ROOT), m -> new ArrayDeque<>())
                .add(new Failure(status, description, retryAfter)));
  }

  // --- what the bot did ---

  public List<TelegramCall> calls() {
    return locked(() -> List.copyOf(calls));
  }

  public Optional<JsonNode> message(long chatId, long messageId) {
    return locked(() -> storedMessage(chatId, messageId).map(ObjectNode::deepCopy));
  }

  public Optional<Boolean> callbackAnswered(String queryId) {
    return locked(() -> Optional.ofNullable(callbackQueries.get(queryId)));
  }

  public int heldPolls() {
    return updates.heldPolls();
  }

  public int pendingUpdates() {
    return updates.pendingCount();
  }

  public Optional<byte[]> file(String fileId) {
    return locked(() -> files.byId(fileId).map(f -> f.bytes().clone()));
  }

  /** Waits until a recorded call matches; fails with what was recorded instead. */
  public TelegramCall await(Predicate<TelegramCall> predicate, String what) {
    return Await.present(
        config.awaitTimeout(),
        () -> calls().stream().filter(predicate).findFirst(),
        () -> {
          List<TelegramCall> seen = calls();
          return "No "
              + what
              + " within "
              + config.awaitTimeout().toMillis()
              + " ms. Recorded ("
              + seen.size()
              + "):"
              + seen.stream()
                  .filter(c -> !c.is("getUpdates"))
                  .map(c -> "\n  " + c)
                  .collect(Collectors.joining());
        });
  }

  /** Every message or edit that came sooner than the pace allows (answered 429), oldest first. */
  public List<Pace.Violation> paceViolations() {
    return locked(pacing::violations);
  }

  /**
   * Keeps the next request of {@code method} in flight, before its effect, until the hold is
   * released.
   */
  public Hold holdNext(String method) {
    Hold hold = new Hold(config.awaitTimeout());
    locked(
        () ->
            holds
                .computeIfAbsent(method.toLowerCase(Locale.ROOT), m -> new ArrayDeque<>())
                .add(hold));
    return hold;
  }

  /** The webhook's URL, if one is set. */
  public Optional<String> webhookUrl() {
    return webhooks.url();
  }

  // --- for BotApiHandler ---

  Pacing pacing() {
    return pacing;
  }

  Webhooks webhooks() {
    return webhooks;
  }

  Updates updates() {
    return updates;
  }

  FileStore files() {
    return files;
  }

  void record(TelegramCall call) {
    locked(() -> calls.add(call));
  }

  /** The answer {@link #failNext} scripted for this call of {@code method}; null if none. */
  Answer takeFailure(String method) {
    Failure f =
        locked(
            () -> {
              Deque<Failure> queue = scripted.get(method.toLowerCase(Locale.ROOT));
              return queue == null ? null : queue.poll();
            });
    return f == null
        ? null
        : new Answer(f.status(), Answer.error(f.status(), f.description(), f.retryAfter()));
  }

  /** Keeps this request in flight while a {@link #holdNext} hold for its method asks so. */
  void holdIfAsked(String method) {
    Hold hold =
        locked(
            () -> {
              Deque<Hold> queue = holds.get(method.toLowerCase(Locale.ROOT));
              return queue == null ? null : queue.poll();
            });
    if (hold != null) {
      try {
        hold.arriveAndWait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // --- for BotMethods, called with the lock held ---

  ObjectNode botMessage(long chatId) {
    TelegramContext where = chats.get(chatId);
    if (where == null) {
      throw new BadRequest("chat not found");
    }
    ObjectNode m = Shapes.F.objectNode().put("message_id", nextMessageId++);
    m.set("from", botNode());
    ObjectNode chat = chatNode(where);
    m.set("chat", chat);
    m.put("date", config.clock().instant().getEpochSecond());
    return m;
  }

  void storeBotMessage(ObjectNode m, Long replyTo) {
    if (replyTo != null) {
      storedMessage(m.path("chat").path("id").asLong(), replyTo)
          .ifPresent(
              t -> {
                ObjectNode copy = t.deepCopy();
                copy.remove("reply_to_message");
                m.set("reply_to_message", copy);
              });
    }
    store(m);
  }

  ObjectNode existingMessage(long chatId, long messageId, String notFound) {
    return storedMessage(chatId, messageId).orElseThrow(() -> new BadRequest(notFound));
  }

  void deleteStored(long chatId, long messageId) {
    if (messages.getOrDefault(chatId, new HashMap<>()).remove(messageId) == null) {
      throw new BadRequest("message to delete not found");
    }
  }

  ArrayNode storePhoto(byte[] bytes) {
    return files.photoSizes(bytes);
  }

  ObjectNode storeDocument(byte[] bytes, String filename, String mimeType) {
    return files.document(bytes, filename, mimeType);
  }

  Optional<FileStore.StoredFile> fileById(String fileId) {
    return files.byId(fileId);
  }

  boolean answerQuery(String id) {
    Boolean answered = callbackQueries.get(id);
    if (answered == null || answered) {
      throw new BadRequest("query is too old and response timeout expired or query ID is invalid");
    }
    callbackQueries.put(id, true);
    return true;
  }

  String memberStatus(long chatId, long userId) {
    if (chatId == userId) {
      return "member";
    }
    if (creators.getOrDefault(chatId, Long.MIN_VALUE) == userId) {
      return "creator";
    }
    return administrators.getOrDefault(chatId, Set.of()).contains(userId)
        ? "administrator"
        : "member";
  }

  ObjectNode user(long id) {
    return userNode(id);
  }

  boolean knowsChat(long chatId) {
    return chats.containsKey(chatId);
  }

  <T> T locked(Supplier<T> work) {
    lock.lock();
    try {
      return work.get();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    updates.close();
    webhooks.close();
    http.stop(0);
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
