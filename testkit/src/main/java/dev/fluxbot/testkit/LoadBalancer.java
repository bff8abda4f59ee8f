package dev.fluxbot.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A round-robin HTTP load balancer on loopback, in front of several bot instances: each request
 * goes, with its method, path, query, headers and body, to the next instance in turn, and its
 * answer comes back. What a webhook or a Request URL meets in a deployment of several instances:
 * consecutive deliveries land on different ones.
 *
 * <pre>{@code
 * try (LoadBalancer lb = LoadBalancer.start()) {
 *   // point the platform at lb.url(), start the bots, then:
 *   lb.addTarget(URI.create("http://127.0.0.1:" + botA.port()));
 *   lb.addTarget(URI.create("http://127.0.0.1:" + botB.port()));
 * }
 * }</pre>
 */
public final class LoadBalancer implements AutoCloseable {
  /** Headers the JDK client sets itself (it refuses them). */
  private static final Set<String> HOP_HEADERS =
      Set.of("connection", "content-length", "expect", "host", "upgrade", "transfer-encoding");

  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final HttpClient client;
  private final List<URI> targets = new CopyOnWriteArrayList<>();
  private final List<Integer> routed = new CopyOnWriteArrayList<>();
  private final AtomicInteger next = new AtomicInteger();

  private LoadBalancer(HttpServer server) {
    this.server = server;
    this.client =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).executor(executor).build();
  }

  /** Listens on a free loopback port; no targets yet (a request then gets 502). */
  public static LoadBalancer start() {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    LoadBalancer lb = new LoadBalancer(server);
    server.createContext("/", lb::forward);
    server.setExecutor(lb.executor);
    server.start();
    return lb;
  }

  /** {@code http://127.0.0.1:<port>}; add the path the instances serve. */
  public String url() {
    return "http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort();
  }

  /** An instance, {@code scheme://host:port}: requests go to it with their own path. */
  public void addTarget(URI base) {
    targets.add(base);
  }

  /** For each request so far, in arrival order, the index of the instance it went to. */
  public List<Integer> routed() {
    return List.copyOf(routed);
  }

  private void forward(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      if (targets.isEmpty()) {
        exchange.sendResponseHeaders(502, -1);
        return;
      }
      int index;
      synchronized (this) {
        index = Math.floorMod(next.getAndIncrement(), targets.size());
        routed.add(index);
      }
      URI target = targets.get(index).resolve(exchange.getRequestURI().getRawPath());
      if (exchange.getRequestURI().getRawQuery() != null) {
        target = URI.create(target + "?" + exchange.getRequestURI().getRawQuery());
      }
      HttpRequest.Builder request =
          HttpRequest.newBuilder(target)
              .timeout(Duration.ofSeconds(30))
              .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(body));
      exchange
          .getRequestHeaders()
          .forEach(
              (name, values) -> {
                if (!HOP_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                  values.forEach(v -> request.header(name, v));
                }
              });
      HttpResponse<byte[]> answer;
      try {
        answer = client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException e) {
        exchange.sendResponseHeaders(502, -1);
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        exchange.sendResponseHeaders(503, -1);
        return;
      }
      answer
          .headers()
          .firstValue("Content-Type")
          .ifPresent(t -> exchange.getResponseHeaders().set("Content-Type", t));
      byte[] bytes = answer.body();
      exchange.sendResponseHeaders(answer.statusCode(), bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        exchange.getResponseBody().write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
