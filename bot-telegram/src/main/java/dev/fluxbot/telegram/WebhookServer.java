package dev.fluxbot.telegram;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.objects.Update;

/**
 * Receives updates by webhook: Telegram POSTs each as JSON with the secret token it was given in
 * {@code setWebhook} in the {@code X-Telegram-Bot-Api-Secret-Token} header. A request without the
 * right token gets 401 and is dropped; a good one gets 200 at once and is handled afterwards.
 */
final class WebhookServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebhookServer.class);
  static final String SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";
  private static final long MAX_BODY = 1024 * 1024;

  private final TelegramBot.Webhook config;
  private final Consumer<List<Update>> sink;
  private final ObjectMapper json =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private HttpServer server;

  WebhookServer(TelegramBot.Webhook config, Consumer<List<Update>> sink) {
    this.config = config;
    this.sink = sink;
  }

  /** Binds the listen address; the bound address (a port of 0 becomes a real one). */
  InetSocketAddress start() {
    try {
      server = HttpServer.create(config.listen(), 64);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "telegram.webhook: cannot listen on " + config.listen() + " (" + e.getMessage() + ")", e);
    }
    server.createContext(config.path(), this::handle);
    server.setExecutor(executor);
    server.start();
    return server.getAddress();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestMethod().equals("POST")) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      String given = exchange.getRequestHeaders().getFirst(SECRET_HEADER);
      if (given == null
          || !MessageDigest.isEqual(
              given.getBytes(StandardCharsets.UTF_8),
              config.secretToken().reveal().getBytes(StandardCharsets.UTF_8))) {
        log.info(
            "telegram: refused a webhook request from {} without the right secret token",
            exchange.getRemoteAddress().getAddress().getHostAddress());
        exchange.sendResponseHeaders(401, -1);
        return;
      }
      byte[] body = exchange.getRequestBody().readNBytes((int) MAX_BODY + 1);
      Update update;
      try {
        if (body.length > MAX_BODY) {
          throw new IOException("body over " + MAX_BODY + " bytes");
        }
        update = json.readValue(body, Update.class);
      } catch (IOException e) {
        log.info(
            "telegram: a webhook request did not hold an update ({})",
            e.getClass().getSimpleName());
        exchange.sendResponseHeaders(400, -1);
        return;
      }
      exchange.sendResponseHeaders(200, -1);
      sink.accept(List.of(update));
    }
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
    }
    executor.shutdownNow();
  }
}
