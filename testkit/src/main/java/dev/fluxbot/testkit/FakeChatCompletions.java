package dev.fluxbot.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * A loopback fake of an OpenAI-compatible chat-completions endpoint (what Ollama, vLLM, llama.cpp's
 * server and OpenAI serve under {@code /v1}), for tests that drive a real client over real sockets.
 *
 * <p>{@code POST /v1/chat/completions} takes {@code model} and {@code messages} and answers a
 * {@code chat.completion} whose {@code choices[0].message.content} is what {@link #behave} says (by
 * default the last user message with " — enhanced" appended); {@code GET /v1/models} lists the one
 * model. With a key set, every call must carry {@code Authorization: Bearer <key>}, else it is
 * answered 401 like OpenAI. It can be told to fail with a status, be slow, answer empty, or answer
 * something that is not JSON. Every call is recorded; {@link #violations()} lists what a client
 * sent that the wire format does not allow.
 *
 * <pre>{@code
 * try (FakeChatCompletions llm = FakeChatCompletions.builder().key("sk-test").start()) {
 *   llm.behave(FakeChatCompletions.Behaviour.answer("a red fox in deep snow, golden hour"));
 *   // point the client at llm.baseUrl() with llm.key() and llm.model()
 * }
 * }</pre>
 */
public final class FakeChatCompletions implements AutoCloseable {
  public static final String DEFAULT_MODEL = "fake-llm";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One call as the fake saw it. */
  public record Call(String method, String path, String authorization, String body) {
    /** The body as JSON (a missing node where it is not JSON). */
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
      }
    }

    /** The content of the last {@code user} message. */
    public String userContent() {
      String found = null;
      for (JsonNode m : json().path("messages")) {
        if (m.path("role").asText().equals("user")) {
          found = m.path("content").asText();
        }
      }
      return found;
    }
  }

  /**
   * What the fake answers a valid call with.
   *
   * @param status the HTTP status (200 for an answer)
   * @param delay how long it waits before answering
   * @param content the completion's text for a given user message (status 200); null content: the
   *     body is {@code raw}
   * @param raw a body sent as it is (not JSON, say), or null
   */
  public record Behaviour(int status, Duration delay, UnaryOperator<String> content, String raw) {
    public static Behaviour enhancing() {
      return new Behaviour(200, Duration.ZERO, p -> p + " — enhanced", null);
    }

    public static Behaviour answer(String text) {
      return new Behaviour(200, Duration.ZERO, p -> text, null);
    }

    public static Behaviour empty() {
      return answer("");
    }

    public static Behaviour status(int status) {
      return new Behaviour(status, Duration.ZERO, null, null);
    }

    public static Behaviour notJson() {
      return new Behaviour(200, Duration.ZERO, null, "<html>it works</html>");
    }

    public Behaviour slow(Duration by) {
      return new Behaviour(status, by, content, raw);
    }
  }

  /** Options. */
  public static final class Builder {
    private String key;
    private String model = DEFAULT_MODEL;

    /** The key calls must carry as a bearer token; null (the default) checks none. */
    public Builder key(String key) {
      this.key = key;
      return this;
    }

    public Builder model(String model) {
      this.model = Objects.requireNonNull(model, "model");
      return this;
    }

    public FakeChatCompletions start() {
      return new FakeChatCompletions(this);
    }
  }

  private final String key;
  private final String model;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final AtomicReference<Behaviour> behaviour = new AtomicReference<>(Behaviour.enhancing());
  private final AtomicInteger ids = new AtomicInteger();

  private FakeChatCompletions(Builder b) {
    this.key = b.key;
    this.model = b.model;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A fake with no key check and the model {@value #DEFAULT_MODEL}. */
  public static FakeChatCompletions start() {
    return builder().start();
  }

  /** {@code http://127.0.0.1:<port>/v1}: what a client takes as its base URL. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  public String key() {
    return key;
  }

  public String model() {
    return model;
  }

  /** What valid calls are answered with from now on. */
  public void behave(Behaviour b) {
    behaviour.set(Objects.requireNonNull(b, "behaviour"));
  }

  /** Every call, in order. */
  public List<Call> calls() {
    return List.copyOf(calls);
  }

  /** The chat-completion calls, in order. */
  public List<Call> completions() {
    return calls.stream().filter(c -> c.path().endsWith("/chat/completions")).toList();
  }

  /** What clients sent that the wire format does not allow, one line each. */
  public List<String> violations() {
    return List.copyOf(violations);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      Call call =
          new Call(
              exchange.getRequestMethod(),
              exchange.getRequestURI().getRawPath(),
              exchange.getRequestHeaders().getFirst("Authorization"),
              body);
      calls.add(call);
      if (key != null && !("Bearer " + key).equals(call.authorization())) {
        send(exchange, 401, error("Incorrect API key provided.", "invalid_api_key"));
        return;
      }
      switch (call.method() + " " + call.path()) {
        case "GET /v1/models" -> send(exchange, 200, models());
        case "POST /v1/chat/completions" -> complete(exchange, call);
        default -> send(exchange, 404, error("Unknown request URL: " + call.path(), null));
      }
    }
  }

  private void complete(HttpExchange exchange, Call call) throws IOException {
    List<String> wrong = check(call);
    if (!wrong.isEmpty()) {
      violations.addAll(wrong);
      send(exchange, 400, error(String.join("; ", wrong), "invalid_request_error"));
      return;
    }
    Behaviour b = behaviour.get();
    if (!b.delay().isZero()) {
      try {
        Thread.sleep(b.delay());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    if (b.status() != 200) {
      send(exchange, b.status(), error("The fake was told to fail with " + b.status(), null));
    } else if (b.content() == null) {
      send(exchange, 200, b.raw());
    } else {
      send(exchange, 200, completion(b.content().apply(call.userContent())));
    }
  }

  /** The wire format's rules a request must keep. */
  private static List<String> check(Call call) {
    List<String> wrong = new ArrayList<>();
    JsonNode body = call.json();
    if (!body.isObject()) {
      return List.of("the body is not a JSON object");
    }
    if (!body.path("model").isTextual() || body.path("model").asText().isBlank()) {
      wrong.add("model: must be a non-empty string");
    }
    JsonNode messages = body.path("messages");
    if (!messages.isArray() || messages.isEmpty()) {
      wrong.add("messages: must be a non-empty array");
    } else {
      for (JsonNode m : messages) {
        String role = m.path("role").asText();
        if (!List.of("system", "developer", "user", "assistant", "tool").contains(role)) {
          wrong.add("messages[].role: unknown role " + m.path("role"));
        }
        if (!m.path("content").isTextual() && !m.path("content").isArray()) {
          wrong.add("messages[].content: must be a string or an array of parts");
        }
      }
      if (call.userContent() == null) {
        wrong.add("messages: no user message");
      }
    }
    return wrong;
  }

  private String completion(String content) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", "chatcmpl-fake" + ids.incrementAndGet());
    o.put("object", "chat.completion");
    o.put("created", System.currentTimeMillis() / 1000);
    o.put("model", model);
    ArrayNode choices = o.putArray("choices");
    ObjectNode choice = choices.addObject();
    choice.put("index", 0);
    ObjectNode message = choice.putObject("message");
    message.put("role", "assistant");
    message.put("content", content);
    choice.put("finish_reason", "stop");
    ObjectNode usage = o.putObject("usage");
    usage.put("prompt_tokens", 10);
    usage.put("completion_tokens", 10);
    usage.put("total_tokens", 20);
    return o.toString();
  }

  private String models() {
    ObjectNode o = JSON.createObjectNode();
    o.put("object", "list");
    ObjectNode m = o.putArray("data").addObject();
    m.put("id", model);
    m.put("object", "model");
    m.put("owned_by", "fluxbot-testkit");
    return o.toString();
  }

  private static String error(String message, String code) {
    ObjectNode o = JSON.createObjectNode();
    ObjectNode e = o.putObject("error");
    e.put("message", message);
    e.put("type", "invalid_request_error");
    e.put("code", code);
    return o.toString();
  }

  private static void send(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      exchange.getResponseBody().write(bytes);
    }
  }
}
