package dev.fluxbot.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fluxbot.core.chat.ChatConnection;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operations listener of {@code fluxbot run} ({@code ops.listen}): {@code GET /healthz} (200
 * while the process lives), {@code GET /readyz} (200 when {@link Readiness} says the bot can take
 * work, else 503, with each check as JSON) and {@code GET /metrics} (the Prometheus text format of
 * the app's registry: the core's meters, the platforms' connection gauges and the JVM's own). Other
 * paths are 404, other methods than GET and HEAD 405. It changes nothing and shows no secret.
 *
 * <p>It is the JDK's own HTTP server, as {@link OriginalsServer} is: three small read-only pages
 * need no framework, and the app gains no dependency for them.
 */
final class OpsServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OpsServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer http;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final PrometheusMeterRegistry registry;
  private final Readiness readiness;
  private final JvmGcMetrics gc = new JvmGcMetrics();

  private OpsServer(HttpServer http, PrometheusMeterRegistry registry, Readiness readiness) {
    this.http = http;
    this.registry = registry;
    this.readiness = readiness;
    http.createContext("/", this::handle);
    http.setExecutor(executor);
  }

  /**
   * Binds {@code listen}, adds the JVM's meters and one {@code fluxbot_platform_connected} gauge
   * per platform to {@code registry}, and starts serving.
   *
   * @throws IllegalStateException in one line, naming the address and what to do, when it cannot be
   *     bound (the port is taken, the host is not this machine's)
   */
  static OpsServer start(
      InetSocketAddress listen,
      PrometheusMeterRegistry registry,
      Readiness readiness,
      List<? extends ChatConnection> platforms) {
    InetSocketAddress bind = new InetSocketAddress(listen.getHostString(), listen.getPort());
    String where = listen.getHostString() + ":" + listen.getPort();
    HttpServer http;
    try {
      if (bind.isUnresolved()) {
        throw new IOException("unknown host " + listen.getHostString());
      }
      http = HttpServer.create(bind, 16);
    } catch (BindException e) {
      throw new IllegalStateException(
          "ops.listen: cannot listen on "
              + where
              + " ("
              + e.getMessage()
              + "): another program (or another fluxbot) has it. Set ops.listen or "
              + Environment.OPS_LISTEN
              + " to a free HOST:PORT, or to off.");
    } catch (IOException e) {
      throw new IllegalStateException(
          "ops.listen: cannot listen on "
              + where
              + " ("
              + e.getMessage()
              + "). Use an address of this machine, e.g. "
              + OpsSettings.DEFAULT_LISTEN
              + ", or off.");
    }
    OpsServer server = new OpsServer(http, registry, readiness);
    server.bindMeters(platforms);
    http.start();
    log.info(
        "ops: serving /healthz, /readyz and /metrics on {}:{}",
        server.address().getHostString(),
        server.address().getPort());
    return server;
  }

  private void bindMeters(List<? extends ChatConnection> platforms) {
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    for (ChatConnection platform : platforms) {
      Gauge.builder("fluxbot.platform.connected", () -> platform.connection().connected() ? 1 : 0)
          .description("1 while the chat platform is connected, else 0")
          .tag("platform", platform.platform())
          .register(registry);
    }
  }

  /** The bound address (a port of 0 became a real one). */
  InetSocketAddress address() {
    return http.getAddress();
  }

  /** {@code /readyz} says 503 from now on: the bot is shutting down. */
  void stopping() {
    readiness.stopping();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getPath();
      if (!List.of("/healthz", "/readyz", "/metrics").contains(path)) {
        send(
            exchange,
            404,
            "text/plain; charset=utf-8",
            "not found: try /healthz, /readyz or /metrics\n");
        return;
      }
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        send(exchange, 405, "text/plain; charset=utf-8", "only GET and HEAD\n");
        return;
      }
      switch (path) {
        case "/healthz" -> send(exchange, 200, "text/plain; charset=utf-8", "ok\n");
        case "/readyz" -> ready(exchange);
        default -> send(exchange, 200, PROMETHEUS_TEXT, registry.scrape());
      }
    } catch (RuntimeException e) {
      log.warn("ops: {} failed: {}", exchange.getRequestURI().getPath(), e.toString());
    }
  }

  private void ready(HttpExchange exchange) throws IOException {
    Readiness.Report report = readiness.check();
    ObjectNode body = JSON.createObjectNode();
    body.put("ready", report.ready());
    ObjectNode checks = body.putObject("checks");
    report.checks().forEach(checks::put);
    ObjectNode details = body.putObject("details");
    for (Map.Entry<String, String> d : report.details().entrySet()) {
      details.put(d.getKey(), d.getValue());
    }
    send(
        exchange,
        report.ready() ? 200 : 503,
        "application/json",
        JSON.writeValueAsString(body) + "\n");
  }

  private static void send(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    if (exchange.getRequestMethod().equals("HEAD")) {
      exchange.sendResponseHeaders(status, -1);
      return;
    }
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    http.stop(0);
    executor.shutdownNow();
    gc.close();
  }
}
