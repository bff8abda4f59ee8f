package dev.fluxbot.testkit.klein;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fluxbot.testkit.FakeKleinWorker.RecordedGenerate;
import dev.fluxbot.testkit.KleinScenario;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The machinery behind {@link dev.fluxbot.testkit.FakeKleinWorker}: one loopback HTTP server and
 * its state.
 */
public final class KleinEngine {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What {@code /v1/health} reports; every field may change while the fake runs. */
  public static final class State {
    public volatile String status = "ok";
    public volatile String model = "klein-4b";
    public volatile String variant = "distilled";
    public volatile String device = "cpu";
    public volatile String deviceName = "fake CPU";
    volatile String dtype = "float32";
    volatile long allocatedBytes = 1L << 30;
    public volatile long totalBytes = 0;
    public volatile int waiting;
    public volatile int running;
    public volatile int batchCapacity = 4;
    public volatile int maxReferences = 4;
    public volatile int maxPromptTokens = 512;
    public volatile int defaultSteps = 4;
    public volatile Duration stepDelay = Duration.ZERO;

    /**
     * Called instead of refusing connections when a {@code DIE} scenario runs (a child process
     * halts).
     */
    public volatile Runnable onDie;
  }

  private final State state;
  private final String host;
  private final int port;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final ReentrantLock serverLock = new ReentrantLock();
  private final AtomicReference<HttpServer> server = new AtomicReference<>();
  private final ConcurrentLinkedQueue<KleinScenario> scenarios = new ConcurrentLinkedQueue<>();
  private final List<RecordedGenerate> generates =
      java.util.Collections.synchronizedList(new ArrayList<>());
  private final BlockingQueue<RecordedGenerate> untaken = new LinkedBlockingQueue<>();
  private final AtomicInteger healthRequests = new AtomicInteger();
  private final AtomicInteger active = new AtomicInteger();

  public KleinEngine(State state, String host, int port) {
    this.state = state;
    this.host = host;
    HttpServer bound = bind(host, port);
    this.port = bound.getAddress().getPort();
    serve(bound);
  }

  private static HttpServer bind(String host, int port) {
    try {
      return HttpServer.create(new InetSocketAddress(InetAddress.getByName(host), port), 64);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on " + host + ":" + port, e);
    }
  }

  private void serve(HttpServer s) {
    s.setExecutor(executor);
    s.createContext("/", this::handle);
    s.start();
    server.set(s);
  }

  public int port() {
    return port;
  }

  /** The address it listens on, as given ({@code 127.0.0.1} by default). */
  public String host() {
    return host;
  }

  public State state() {
    return state;
  }

  public void enqueue(KleinScenario scenario) {
    scenarios.add(scenario);
  }

  public List<RecordedGenerate> generates() {
    synchronized (generates) {
      return List.copyOf(generates);
    }
  }

  public RecordedGenerate take(Duration timeout) {
    try {
      RecordedGenerate r = untaken.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (r == null) {
        throw new IllegalStateException("no /v1/generate arrived within " + timeout);
      }
      return r;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a /v1/generate", e);
    }
  }

  public int healthRequests() {
    return healthRequests.get();
  }

  public int active() {
    return active.get();
  }

  /** Closes the listening socket: connections are refused until {@link #accept}. */
  public void refuse() {
    serverLock.lock();
    try {
      HttpServer s = server.getAndSet(null);
      if (s != null) {
        s.stop(0);
      }
    } finally {
      serverLock.unlock();
    }
  }

  /** Listens again on the same port. */
  public void accept() {
    serverLock.lock();
    try {
      if (server.get() == null) {
        serve(bind(host, port));
      }
    } finally {
      serverLock.unlock();
    }
  }

  boolean accepting() {
    return server.get() != null;
  }

  public void close() {
    refuse();
    executor.shutdownNow();
  }

  // --- HTTP ---

  /**
   * Thrown to cut a connection: the server then closes the socket without ending the chunked body.
   */
  private static final class Cut extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Cut(String message) {
      super(message, null, false, false);
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try {
      route(ex);
      ex.close();
    } catch (Cut cut) {
      throw cut;
    } catch (IOException | RuntimeException e) {
      ex.close();
      throw e;
    }
  }

  private void route(HttpExchange ex) throws IOException {
    {
      String path = ex.getRequestURI().getPath();
      switch (path) {
        case "/v1/health" -> {
          if (!ex.getRequestMethod().equals("GET")) {
            send(
                ex,
                405,
                "application/json",
                error("invalid_request", "method", "use GET").toString() + "\n");
            return;
          }
          healthRequests.incrementAndGet();
          send(ex, state.status.equals("ok") ? 200 : 503, "application/json", health().toString());
        }
        case "/v1/generate" -> {
          if (!ex.getRequestMethod().equals("POST")) {
            send(
                ex,
                405,
                "application/json",
                error("invalid_request", "method", "use POST").toString() + "\n");
            return;
          }
          generate(ex);
        }
        default ->
            send(
                ex,
                404,
                "application/json",
                error("invalid_request", "path", "no such path: " + path) + "\n");
      }
    }
  }

  private ObjectNode health() {
    ObjectNode h = JSON.createObjectNode();
    h.put("status", state.status)
        .put("protocol", 1)
        .put("model", state.model)
        .put("variant", state.variant)
        .put("device", state.device)
        .put("device_name", state.deviceName)
        .put("dtype", state.dtype);
    h.putObject("memory")
        .put("allocated_bytes", state.allocatedBytes)
        .put("reserved_bytes", 0)
        .put("total_bytes", state.totalBytes);
    h.putObject("queue").put("waiting", state.waiting).put("running", state.running + active.get());
    h.put("batch_capacity", state.batchCapacity)
        .put("max_references", state.maxReferences)
        .put("max_prompt_tokens", state.maxPromptTokens)
        .put("default_steps", state.defaultSteps);
    return h;
  }

  private void generate(HttpExchange ex) throws IOException {
    byte[] raw = ex.getRequestBody().readAllBytes();
    JsonNode body;
    try {
      body = JSON.readTree(raw);
    } catch (IOException e) {
      body = null;
    }
    GenerateRules.Violation v =
        GenerateRules.check(body, state.maxReferences, state.maxPromptTokens);
    KleinScenario scenario = v == null ? next() : null;
    if (v == null && !state.status.equals("ok")) {
      v =
          new GenerateRules.Violation(
              "busy", null, "the model is still loading; try again when /v1/health says ok");
    }
    if (v == null && scenario.kind() == KleinScenario.Kind.REFUSE) {
      v = new GenerateRules.Violation(scenario.code(), null, scenario.message());
    }
    if (v != null) {
      record(body, raw, v.code());
      int status = v.code().equals("busy") || v.code().equals("shutting_down") ? 503 : 400;
      send(ex, status, "application/x-ndjson", error(v.code(), v.field(), v.message()) + "\n");
      return;
    }
    record(body, raw, scenario.kind().name().toLowerCase(java.util.Locale.ROOT));
    active.incrementAndGet();
    try {
      stream(ex, body, scenario);
    } finally {
      active.decrementAndGet();
    }
  }

  private KleinScenario next() {
    KleinScenario s = scenarios.poll();
    return s == null ? KleinScenario.succeed() : s;
  }

  private void record(JsonNode body, byte[] raw, String outcome) {
    RecordedGenerate r =
        new RecordedGenerate(body, new String(raw, StandardCharsets.UTF_8), outcome);
    generates.add(r);
    untaken.add(r);
  }

  private void stream(HttpExchange ex, JsonNode body, KleinScenario scenario) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/x-ndjson");
    ex.sendResponseHeaders(200, 0);
    OutputStream out = ex.getResponseBody();
    line(out, JSON.createObjectNode().put("event", "queued").put("position", state.waiting));
    line(out, JSON.createObjectNode().put("event", "started").put("batch", 1));
    int steps = body.hasNonNull("steps") ? body.get("steps").asInt() : state.defaultSteps;
    for (int step = 0; step <= steps; step++) {
      if (step > 0) {
        pause();
        line(
            out,
            JSON.createObjectNode().put("event", "progress").put("step", step).put("steps", steps));
      }
      if (step == Math.min(scenario.atStep(), steps)) {
        switch (scenario.kind()) {
          case ERROR -> {
            line(out, error(scenario.code(), null, scenario.message()));
            return;
          }
          case DROP -> throw new Cut("fake klein worker: connection cut after step " + step);
          case DIE -> {
            die();
            throw new Cut("fake klein worker: died after step " + step);
          }
          default -> {
            // SUCCEED: go on
          }
        }
      }
    }
    int w = body.get("width").asInt();
    int h = body.get("height").asInt();
    long seed = body.get("seed").asLong();
    String format = body.path("output_format").asText("png");
    byte[] image = KleinImages.render(format, w, h, seed);
    line(
        out,
        JSON.createObjectNode()
            .put("event", "image")
            .put("format", format)
            .put("width", w)
            .put("height", h)
            .put("seed", seed)
            .put("data", Base64.getEncoder().encodeToString(image))
            .put("elapsed_ms", steps));
  }

  private void die() {
    Runnable hook = state.onDie;
    if (hook != null) {
      hook.run();
    } else {
      refuse(); // before the cut, so that no health check sees it alive afterwards
    }
  }

  private void pause() {
    Duration d = state.stepDelay;
    if (!d.isZero()) {
      try {
        Thread.sleep(d); // the fake's stand-in for a denoising step
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void line(OutputStream out, ObjectNode event) throws IOException {
    out.write((event + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private static ObjectNode error(String code, String field, String message) {
    ObjectNode e =
        JSON.createObjectNode().put("event", "error").put("code", code).put("message", message);
    if (field != null) {
      e.put("field", field);
    }
    return e;
  }

  private static void send(HttpExchange ex, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
  }
}
