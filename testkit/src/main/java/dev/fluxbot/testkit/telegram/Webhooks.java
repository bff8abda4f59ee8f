package dev.fluxbot.testkit.telegram;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The webhook {@code setWebhook} sets, and the loop that pushes the pending updates to it as
 * Telegram does.
 */
final class Webhooks {
  static final String ACTIVE =
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to"
          + " delete the webhook first";

  /** A webhook as {@code setWebhook} set it. */
  private record Webhook(String url, String secretToken) {}

  private final Updates updates;
  private final Consumer<TelegramCall> record;
  private final HttpClient pusher;
  private volatile Webhook webhook;

  Webhooks(Updates updates, ExecutorService executor, Consumer<TelegramCall> record) {
    this.updates = updates;
    this.record = record;
    this.pusher =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).executor(executor).build();
  }

  boolean active() {
    return webhook != null;
  }

  /** The webhook's URL, if one is set. */
  Optional<String> url() {
    Webhook w = webhook;
    return Optional.ofNullable(w == null ? null : w.url());
  }

  Answer set(FormData form) {
    String url = form.params().getOrDefault("url", "");
    if (url.isEmpty()) {
      return delete();
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

  Answer delete() {
    webhook = null;
    updates.nudge();
    return Answer.ok(Shapes.F.booleanNode(true));
  }

  Answer info() {
    return Answer.ok(
        Shapes.F.objectNode()
            .put("url", url().orElse(""))
            .put("has_custom_certificate", false)
            .put("pending_update_count", updates.pendingCount()));
  }

  /**
   * Sends each pending update to the webhook, oldest first, with the secret token header; one the
   * bot does not take with a 2xx is sent again shortly, as Telegram does. Recorded as method {@code
   * webhook} with the status the bot answered (0 when it could not be reached).
   */
  void pushLoop() {
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
        record.accept(
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
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(hook.url()))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(update.toString(), StandardCharsets.UTF_8));
    if (hook.secretToken() != null) {
      request.header("X-Telegram-Bot-Api-Secret-Token", hook.secretToken());
    }
    try {
      return pusher.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return 0;
    }
  }

  void close() {
    pusher.shutdownNow();
  }
}
