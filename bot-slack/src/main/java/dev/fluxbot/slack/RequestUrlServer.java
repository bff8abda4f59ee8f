package dev.fluxbot.slack;

import com.slack.api.bolt.App;
import com.slack.api.bolt.request.Request;
import com.slack.api.bolt.request.RequestHeaders;
import com.slack.api.bolt.response.Response;
import com.slack.api.bolt.util.SlackRequestParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP mode: Slack's requests arrive at {@code POST /slack/events}; Bolt checks each one's
 * signature (a missing or wrong one gets 401 and runs nothing) and answers it.
 */
final class RequestUrlServer implements AutoCloseable {
  static final String PATH = "/slack/events";
  private static final Logger log = LoggerFactory.getLogger(RequestUrlServer.class);
  private static final int MAX_BODY = 1024 * 1024;

  private final App app;
  private final SlackRequestParser parser;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final HttpServer server;

  RequestUrlServer(App app, InetSocketAddress listen) {
    this.app = app;
    this.parser = new SlackRequestParser(app.config());
    try {
      server = HttpServer.create(listen, 64);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "FLUXBOT_SLACK_HTTP_LISTEN: Slack's HTTP mode cannot listen on "
              + listen
              + " ("
              + e.getMessage()
              + "); pick a free port or stop what holds it",
          e);
    }
    server.createContext(PATH, this::handle);
    server.setExecutor(executor);
    server.start();
  }

  /** The Request URL on this machine, {@code http://host:port/slack/events}. */
  URI requestUrl() {
    InetSocketAddress a = server.getAddress();
    return URI.create("http://" + a.getHostString() + ":" + a.getPort() + PATH);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      answer(exchange);
    }
  }

  private void answer(HttpExchange exchange) throws IOException {
    try {
      if (!exchange.getRequestMethod().equals("POST")) {
        send(exchange, 405, "text/plain", "POST only");
        return;
      }
      byte[] raw = exchange.getRequestBody().readNBytes(MAX_BODY + 1);
      if (raw.length > MAX_BODY) {
        send(exchange, 413, "text/plain", "request too large");
        return;
      }
      Map<String, List<String>> headers = new HashMap<>(exchange.getRequestHeaders());
      Request<?> request =
          parser.parse(
              SlackRequestParser.HttpRequest.builder()
                  .requestUri(PATH)
                  .requestBody(new String(raw, StandardCharsets.UTF_8))
                  .headers(new RequestHeaders(headers))
                  .remoteAddress(exchange.getRemoteAddress().getAddress().getHostAddress())
                  .build());
      if (request == null) {
        send(exchange, 400, "text/plain", "not a Slack request");
        return;
      }
      Response response = app.run(request);
      String body = response.getBody() == null ? "" : response.getBody();
      send(
          exchange,
          response.getStatusCode(),
          response.getContentType() == null ? "text/plain" : response.getContentType(),
          body);
    } catch (Exception e) {
      log.warn("slack: a request to the Request URL failed: {}", e.toString());
      send(exchange, 500, "text/plain", "internal error");
    }
  }

  private static void send(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
