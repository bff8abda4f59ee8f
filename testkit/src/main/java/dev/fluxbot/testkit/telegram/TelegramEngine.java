package dev.fluxbot.testkit.telegram;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fluxbot.testkit.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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
 * threads) answering {@code /bot<token>/<method>} and {@code /file/bot<token>/<path>}; one lock
 * guards the chats, messages, files and records.
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

  /**
   * The methods that put a message in a chat or change one: what Telegram's per-chat pace counts.
   */
  static final Set<String> PACED =
      Set.of(
          "sendmessage",
          "editmessagetext",
          "editmessagecaption",
          "editmessagemedia",
          "editmessagereplymarkup",
          "sendphoto",
          "senddocument",
          "sendmediagroup",
          "sendanimation",
          "sendvideo",
          "sendaudio",
          "sendsticker",
          "sendpoll",
          "senddice",
          "sendlocation",
          "sendcontact",
          "sendvoice",
          "sendvideonote",
          "copymessage",
          "forwardmessage");

  record StoredFile(String fileId, String uniqueId, String path, byte[] bytes) {}

  private record Failure(int status, String description, Integer retryAfter) {}

  /** A webhook as {@code setWebhook} set it. */
  record Webhook(String url, String secretToken) {}

  static final String WEBHOOK_ACTIVE =
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to"
          + " delete the webhook first";

  private final Config config;
  private final HttpServer http;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final Updates updates = new Updates();
  private final ReentrantLock lock = new ReentrantLock();
  private final List<TelegramCall> calls = new ArrayList<>();
  private final Map<Long, ObjectNode> users = new HashMap<>();
  private final Map<Long, TelegramContext> chats = new HashMap<>();
  private final Map<Long, Map<Long, ObjectNode>> messages = new HashMap<>();
  private final Map<String, StoredFile> filesById = new HashMap<>();
  private final Map<String, StoredFile> filesByPath = new HashMap<>();

  /** The user Telegram sends an anonymous group administrator's messages from. */
  public static final long ANONYMOUS_ADMIN_BOT_ID = 1087968824L;

  private final Map<Long, Set<Long>> administrators = new HashMap<>();
  private final Map<Long, Long> creators = new HashMap<>();
  private final Map<String, Boolean> callbackQueries = new LinkedHashMap<>(); // id -> answered
  private final Map<String, Deque<Failure>> scripted = new HashMap<>();
  private final Map<String, Deque<Hold>> holds = new HashMap<>();
  private final Map<Long, Deque<java.time.Instant>> paced =
      new HashMap<>(); // chat -> its messages of the last minute
  private final List<Pace.Violation> violations = new ArrayList<>();
  private long nextMessageId = 100;
  private long nextFile = 1;
  private long nextMediaGroup = 13_000_000_000_000_000L;
  private long nextQuery = 4_000_000_000_000_000_000L;
  private volatile Webhook webhook;
  private final java.net.http.HttpClient pusher =
      java.net.http.HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .executor(executor)
          .build();

  private TelegramEngine(Config config) throws IOException {
    this.config = config;
    this.http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    http.createContext("/", this::handle);
    http.setExecutor(executor);
    http.start();
    executor.execute(this::pushLoop);
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

  private ObjectNode botNode() {
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
            m.set("photo", photoSizes(images.get(i)));
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
          m.set("document", document(bytes, filename, mimeType));
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

  /**
   * A thumbnail (for an image over 90 px that decodes) and the full image, smallest first, as
   * Telegram lists a photo's sizes.
   */
  private ArrayNode photoSizes(byte[] bytes) {
    ArrayNode sizes = Shapes.F.arrayNode();
    int[] d = Shapes.dimensions(bytes);
    byte[] thumb = Math.max(d[0], d[1]) > Shapes.THUMB_SIDE ? Shapes.thumbnail(bytes) : null;
    if (thumb != null) {
      sizes.add(photoSize(thumb));
    }
    sizes.add(photoSize(bytes));
    return sizes;
  }

  private ObjectNode photoSize(byte[] bytes) {
    StoredFile f = storeFile(bytes, "photos", "jpg");
    int[] d = Shapes.dimensions(bytes);
    return Shapes.F.objectNode()
        .put("file_id", f.fileId())
        .put("file_unique_id", f.uniqueId())
        .put("file_size", bytes.length)
        .put("width", d[0])
        .put("height", d[1]);
  }

  private ObjectNode document(byte[] bytes, String filename, String mimeType) {
    String ext = filename.contains(".") ? filename.substring(filename.lastIndexOf('.') + 1) : "bin";
    StoredFile f = storeFile(bytes, "documents", ext);
    ObjectNode d =
        Shapes.F.objectNode()
            .put("file_id", f.fileId())
            .put("file_unique_id", f.uniqueId())
            .put("file_name", filename)
            .put("file_size", bytes.length);
    if (mimeType != null) {
      d.put("mime_type", mimeType);
    }
    return d;
  }

  private StoredFile storeFile(byte[] bytes, String folder, String ext) {
    long n = nextFile++;
    StoredFile f =
        new StoredFile(
            "AgACAgIAAxkB" + String.format(Locale.ROOT, "%012d", n) + "fake",
            "AQAD" + n,
            folder + "/file_" + n + "." + ext,
            bytes.clone());
    filesById.put(f.fileId(), f);
    filesByPath.put(f.path(), f);
    return f;
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
    return locked(() -> Optional.ofNullable(filesById.get(fileId)).map(f -> f.bytes().clone()));
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

  // --- HTTP ---

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getRawPath();
      String prefix = "/bot" + config.token() + "/";
      String filePrefix = "/file/bot" + config.token() + "/";
      if (path.startsWith(filePrefix)) {
        download(exchange, path.substring(filePrefix.length()));
        return;
      }
      byte[] body = exchange.getRequestBody().readAllBytes();
      if (!path.startsWith(prefix) || path.length() == prefix.length()) {
        String method = path.startsWith("/bot") ? path.substring(path.lastIndexOf('/') + 1) : path;
        boolean known = path.startsWith("/bot") || path.startsWith("/file/bot");
        respond(
            exchange,
            method,
            FormData.read(null, null, new byte[0]),
            known ? 401 : 404,
            error(known ? 401 : 404, known ? "Unauthorized" : "Not Found", null));
        return;
      }
      String method = path.substring(prefix.length());
      FormData form;
      try {
        form =
            FormData.read(
                exchange.getRequestURI().getRawQuery(),
                exchange.getRequestHeaders().getFirst("Content-Type"),
                body);
      } catch (IllegalArgumentException e) {
        respond(
            exchange,
            method,
            new FormData(Map.of(), List.of()),
            400,
            error(400, "Bad Request: " + e.getMessage(), null));
        return;
      }
      Failure failure =
          locked(
              () -> {
                Deque<Failure> queue = scripted.get(method.toLowerCase(Locale.ROOT));
                return queue == null ? null : queue.poll();
              });
      if (failure != null) {
        respond(
            exchange,
            method,
            form,
            failure.status(),
            error(failure.status(), failure.description(), failure.retryAfter()));
        return;
      }
      if (!method.equalsIgnoreCase("getUpdates")) {
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
        // The call's effect and its record are made under one hold of the lock, so a test that sees
        // the effect (an edited message) also sees the call in calls().
        Answer answer =
            locked(
                () -> {
                  Answer a = tooSoon(method, form);
                  if (a == null) {
                    try {
                      a = call(method, form);
                    } catch (BadRequest e) {
                      a = Answer.fail(400, "Bad Request: " + e.getMessage());
                    }
                    if (a.status() == 200) {
                      countPaced(method, form);
                    }
                  }
                  record(method, form, a);
                  return a;
                });
        send(exchange, answer);
        return;
      }
      Answer answer;
      try {
        answer = getUpdates(form);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        answer = Answer.fail(500, "Internal Server Error: the fake was interrupted");
      } catch (BadRequest e) {
        answer = Answer.fail(400, "Bad Request: " + e.getMessage());
      }
      respond(exchange, method, form, answer.status(), answer.body());
    }
  }

  private void download(HttpExchange exchange, String filePath) throws IOException {
    StoredFile f = locked(() -> filesByPath.get(filePath));
    byte[] body = f == null ? "Not Found".getBytes(StandardCharsets.UTF_8) : f.bytes();
    record(
        new TelegramCall(
            "file",
            Map.of("file_path", filePath),
            List.of(),
            f == null ? 404 : 200,
            f == null ? "{\"ok\":false}" : "{\"ok\":true}"));
    exchange
        .getResponseHeaders()
        .set("Content-Type", f == null ? "text/plain" : "application/octet-stream");
    exchange.sendResponseHeaders(f == null ? 404 : 200, body.length);
    exchange.getResponseBody().write(body);
  }

  private void respond(
      HttpExchange exchange, String method, FormData form, int status, ObjectNode body)
      throws IOException {
    Answer answer = new Answer(status, body);
    record(method, form, answer);
    send(exchange, answer);
  }

  private void record(String method, FormData form, Answer answer) {
    record(
        new TelegramCall(
            method, form.params(), form.parts(), answer.status(), answer.body().toString()));
  }

  private static void send(HttpExchange exchange, Answer answer) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(answer.body());
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(answer.status(), bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  private void record(TelegramCall call) {
    locked(
        () -> {
          calls.add(call);
          return null;
        });
  }

  static ObjectNode error(int status, String description, Integer retryAfter) {
    ObjectNode e =
        Shapes.F.objectNode()
            .put("ok", false)
            .put("error_code", status)
            .put("description", description);
    if (retryAfter != null) {
      e.putObject("parameters").put("retry_after", retryAfter);
    }
    return e;
  }

  record Answer(int status, ObjectNode body) {
    static Answer ok(JsonNode result) {
      ObjectNode body = Shapes.F.objectNode().put("ok", true);
      body.set("result", result);
      return new Answer(200, body);
    }

    static Answer fail(int status, String description) {
      return new Answer(status, error(status, description, null));
    }
  }

  /** A 400 with Telegram's description (without the {@code Bad Request: } prefix). */
  static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BadRequest(String description) {
      super(description, null, false, false);
    }
  }

  /** A 429 when this message or edit comes sooner than the pace allows; null when it is in time. */
  private Answer tooSoon(String method, FormData form) {
    Pace pace = config.pace();
    Long chatId = pacedChat(method, form);
    if (pace == null || chatId == null || !chats.containsKey(chatId)) {
      return null;
    }
    boolean group = !chats.get(chatId).isPrivate();
    java.time.Instant now = config.clock().instant();
    Deque<java.time.Instant> recent = paced.getOrDefault(chatId, new ArrayDeque<>());
    recent.removeIf(t -> !t.isAfter(now.minusSeconds(60)));
    Duration gap = group ? pace.perGroup() : pace.perChat();
    Duration since = recent.isEmpty() ? null : Duration.between(recent.peekLast(), now);
    Pace.Violation v;
    Duration wait;
    if (since != null && since.compareTo(gap) < 0) {
      v =
          new Pace.Violation(
              method,
              chatId,
              since,
              "at least "
                  + gap.toMillis()
                  + " ms apart in a "
                  + (group ? "group" : "private chat"));
      wait = gap.minus(since);
    } else if (group && recent.size() >= pace.groupPerMinute()) {
      v =
          new Pace.Violation(
              method, chatId, null, "at most " + pace.groupPerMinute() + " a minute in a group");
      wait = Duration.between(now, recent.peekFirst().plusSeconds(60));
    } else {
      return null;
    }
    violations.add(v);
    int retryAfter = (int) Math.max(1, (wait.toMillis() + 999) / 1000);
    return new Answer(429, error(429, "Too Many Requests: retry after " + retryAfter, retryAfter));
  }

  private void countPaced(String method, FormData form) {
    Long chatId = pacedChat(method, form);
    if (config.pace() != null && chatId != null) {
      paced.computeIfAbsent(chatId, c -> new ArrayDeque<>()).addLast(config.clock().instant());
    }
  }

  private static Long pacedChat(String method, FormData form) {
    if (!PACED.contains(method.toLowerCase(Locale.ROOT))) {
      return null;
    }
    try {
      return Long.parseLong(form.params().getOrDefault("chat_id", ""));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Every message or edit that came sooner than the pace allows (answered 429), oldest first. */
  public List<Pace.Violation> paceViolations() {
    return locked(() -> List.copyOf(violations));
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

  private Answer getUpdates(FormData form) throws InterruptedException {
    if (webhook != null) {
      return new Answer(409, error(409, WEBHOOK_ACTIVE, null));
    }
    long offset = Long.parseLong(form.params().getOrDefault("offset", "0"));
    int limit = Integer.parseInt(form.params().getOrDefault("limit", "100"));
    int timeout = Integer.parseInt(form.params().getOrDefault("timeout", "0"));
    ArrayNode result = updates.poll(offset, limit, timeout);
    return result == null ? new Answer(409, error(409, Updates.CONFLICT, null)) : Answer.ok(result);
  }

  private Answer call(String method, FormData form) {
    BotMethods m = new BotMethods(this, form);
    return switch (method.toLowerCase(Locale.ROOT)) {
      case "getme" ->
          Answer.ok(
              botNode()
                  .put("can_join_groups", true)
                  .put("can_read_all_group_messages", !config.privacyMode())
                  .put("supports_inline_queries", false));
      case "setmycommands", "deletemycommands", "sendchataction" ->
          Answer.ok(Shapes.F.booleanNode(true));
      case "setwebhook" -> setWebhook(form);
      case "deletewebhook" -> {
        webhook = null;
        updates.nudge();
        yield Answer.ok(Shapes.F.booleanNode(true));
      }
      case "getwebhookinfo" -> {
        Webhook w = webhook;
        yield Answer.ok(
            Shapes.F.objectNode()
                .put("url", w == null ? "" : w.url())
                .put("has_custom_certificate", false)
                .put("pending_update_count", updates.pendingCount()));
      }
      case "sendmessage" -> Answer.ok(m.sendMessage());
      case "editmessagetext" -> Answer.ok(m.editMessageText());
      case "editmessagereplymarkup" -> Answer.ok(m.editMessageReplyMarkup());
      case "deletemessage" -> Answer.ok(m.deleteMessage());
      case "sendphoto" -> m.sendPhoto();
      case "senddocument" -> m.sendDocument();
      case "sendmediagroup" -> m.sendMediaGroup();
      case "answercallbackquery" -> Answer.ok(m.answerCallbackQuery());
      case "getfile" -> Answer.ok(m.getFile());
      case "getchatmember" -> Answer.ok(m.getChatMember());
      default -> Answer.fail(404, "Not Found: method not found");
    };
  }

  private Answer setWebhook(FormData form) {
    String url = form.params().getOrDefault("url", "");
    if (url.isEmpty()) {
      webhook = null;
      updates.nudge();
      return Answer.ok(Shapes.F.booleanNode(true));
    }
    if (!url.startsWith("http://") && !url.startsWith("https://")) {
      return Answer.fail(
          400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
    }
    String secret = form.params().get("secret_token");
    if (secret != null && !secret.matches("[A-Za-z0-9_-]{1,256}")) {
      return Answer.fail(
          400, "Bad Request: bad webhook: secret token contains unallowed characters");
    }
    webhook = new Webhook(url, secret);
    updates.nudge();
    return Answer.ok(Shapes.F.booleanNode(true));
  }

  /**
   * Sends each pending update to the webhook, oldest first, with the secret token header; one the
   * bot does not take with a 2xx is sent again shortly, as Telegram does. Recorded as method {@code
   * webhook} with the status the bot answered (0 when it could not be reached).
   */
  private void pushLoop() {
    try {
      while (!updates.isClosed()) {
        Webhook hook = webhook;
        ObjectNode update = hook == null ? null : updates.first(TimeUnit.MILLISECONDS.toNanos(200));
        if (hook == null) {
          Thread.sleep(20); // no webhook: getUpdates serves the queue
          continue;
        }
        if (update == null || webhook != hook) {
          continue;
        }
        int status = push(hook, update);
        record(
            new TelegramCall(
                "webhook",
                Map.of("url", hook.url(), "update_id", update.path("update_id").asText()),
                List.of(),
                status,
                update.toString()));
        if (status >= 200 && status < 300) {
          updates.delivered(update.path("update_id").asLong());
        } else {
          Thread.sleep(100); // Telegram tries again later
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private int push(Webhook hook, ObjectNode update) throws InterruptedException {
    var request =
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(hook.url()))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(
                java.net.http.HttpRequest.BodyPublishers.ofString(
                    update.toString(), StandardCharsets.UTF_8));
    if (hook.secretToken() != null) {
      request.header("X-Telegram-Bot-Api-Secret-Token", hook.secretToken());
    }
    try {
      return pusher
          .send(request.build(), java.net.http.HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return 0;
    }
  }

  /** The webhook's URL, if one is set. */
  public Optional<String> webhookUrl() {
    Webhook w = webhook;
    return Optional.ofNullable(w == null ? null : w.url());
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
    return photoSizes(bytes);
  }

  ObjectNode storeDocument(byte[] bytes, String filename, String mimeType) {
    return document(bytes, filename, mimeType);
  }

  Optional<StoredFile> fileById(String fileId) {
    return Optional.ofNullable(filesById.get(fileId));
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
    pusher.shutdownNow();
    http.stop(0);
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
