package dev.fluxbot.testkit.telegram;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The fake's HTTP side: {@code /bot<token>/<method>} (scripted failures, holds, the pace, then the
 * method) and the downloads below {@code /file/bot<token>/}. Every request is recorded.
 */
final class BotApiHandler implements HttpHandler {
  private final TelegramEngine engine;

  BotApiHandler(TelegramEngine engine) {
    this.engine = engine;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getRawPath();
      String prefix = "/bot" + engine.config().token() + "/";
      String filePrefix = "/file/bot" + engine.config().token() + "/";
      if (path.startsWith(filePrefix)) {
        download(exchange, path.substring(filePrefix.length()));
        return;
      }
      byte[] body = exchange.getRequestBody().readAllBytes();
      if (!path.startsWith(prefix) || path.length() == prefix.length()) {
        refuse(exchange, path);
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
            Answer.fail(400, "Bad Request: " + e.getMessage()));
        return;
      }
      Answer failure = engine.takeFailure(method);
      if (failure != null) {
        respond(exchange, method, form, failure);
      } else if (method.equalsIgnoreCase("getUpdates")) {
        respond(exchange, method, form, getUpdates(form));
      } else {
        engine.holdIfAsked(method);
        send(exchange, answer(method, form, hostOf(exchange)));
      }
    }
  }

  /** A path that is not the Bot API with this token: 401 for a wrong token, 404 otherwise. */
  private void refuse(HttpExchange exchange, String path) throws IOException {
    String method = path.startsWith("/bot") ? path.substring(path.lastIndexOf('/') + 1) : path;
    boolean known = path.startsWith("/bot") || path.startsWith("/file/bot");
    int status = known ? 401 : 404;
    respond(
        exchange,
        method,
        FormData.read(null, null, new byte[0]),
        new Answer(status, Answer.error(status, known ? "Unauthorized" : "Not Found", null)));
  }

  /**
   * The call's effect and its record, made under one hold of the lock, so a test that sees the
   * effect (an edited message) also sees the call in calls().
   */
  private Answer answer(String method, FormData form, String host) {
    return engine.locked(
        () -> {
          Answer a = engine.pacing().tooSoon(method, form);
          if (a == null) {
            try {
              a = call(method, form);
            } catch (BadRequest e) {
              a = Answer.fail(400, "Bad Request: " + e.getMessage());
            }
            if (a.status() == 200) {
              engine.pacing().count(method, form);
            }
          }
          record(method, form, a, host);
          return a;
        });
  }

  private Answer call(String method, FormData form) {
    BotMethods m = new BotMethods(engine, form);
    Webhooks webhooks = engine.webhooks();
    return switch (method.toLowerCase(Locale.ROOT)) {
      case "getme" ->
          Answer.ok(
              engine
                  .botNode()
                  .put("can_join_groups", true)
                  .put("can_read_all_group_messages", !engine.config().privacyMode())
                  .put("supports_inline_queries", false));
      case "setmycommands", "deletemycommands", "sendchataction" ->
          Answer.ok(Shapes.F.booleanNode(true));
      case "setwebhook" -> webhooks.set(form);
      case "deletewebhook" -> webhooks.delete();
      case "getwebhookinfo" -> webhooks.info();
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

  private Answer getUpdates(FormData form) {
    if (engine.webhooks().active()) {
      return new Answer(409, Answer.error(409, Webhooks.ACTIVE, null));
    }
    try {
      long offset = Long.parseLong(form.params().getOrDefault("offset", "0"));
      int limit = Integer.parseInt(form.params().getOrDefault("limit", "100"));
      int timeout = Integer.parseInt(form.params().getOrDefault("timeout", "0"));
      ArrayNode result = engine.updates().poll(offset, limit, timeout);
      return result == null
          ? new Answer(409, Answer.error(409, Updates.CONFLICT, null))
          : Answer.ok(result);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Answer.fail(500, "Internal Server Error: the fake was interrupted");
    } catch (BadRequest e) {
      return Answer.fail(400, "Bad Request: " + e.getMessage());
    }
  }

  private void download(HttpExchange exchange, String filePath) throws IOException {
    FileStore.StoredFile f = engine.locked(() -> engine.files().byPath(filePath)).orElse(null);
    byte[] body = f == null ? "Not Found".getBytes(StandardCharsets.UTF_8) : f.bytes();
    engine.record(
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

  private void respond(HttpExchange exchange, String method, FormData form, Answer answer)
      throws IOException {
    record(method, form, answer, hostOf(exchange));
    send(exchange, answer);
  }

  private void record(String method, FormData form, Answer answer, String host) {
    engine.record(
        new TelegramCall(
            method, form.params(), form.parts(), answer.status(), answer.body().toString(), host));
  }

  /** The {@code Host} the client addressed: which of several clients made a call. */
  private static String hostOf(HttpExchange exchange) {
    return exchange.getRequestHeaders().getFirst("Host");
  }

  private static void send(HttpExchange exchange, Answer answer) throws IOException {
    byte[] bytes = TelegramEngine.JSON.writeValueAsBytes(answer.body());
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(answer.status(), bytes.length);
    exchange.getResponseBody().write(bytes);
  }
}
