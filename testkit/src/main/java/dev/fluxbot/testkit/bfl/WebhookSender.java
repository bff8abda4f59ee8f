package dev.fluxbot.testkit.bfl;

import dev.fluxbot.testkit.FakeBflApi.RecordedWebhook;
import dev.fluxbot.testkit.FakeBflApi.WebhookSigning;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Calls a task's {@code webhook_url} when it ends, as BFL does: a POST of the task's result (the
 * same JSON a poll answers) signed with HMAC-SHA256 of the raw body under the task's {@code
 * webhook_secret}, in {@code X-BFL-Signature: sha256=<hex>} (or as the test chose).
 */
final class WebhookSender implements AutoCloseable {
  /** When a webhook task without a set work time ends. */
  static final Duration DEFAULT_WORK_TIME = Duration.ofMillis(50);

  private final TaskBook book;
  private final DeliveryLinks links;
  private final InstantSource clock;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("fake-bfl-webhooks").unstarted(r));
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<RecordedWebhook> sent = new CopyOnWriteArrayList<>();
  private volatile WebhookSigning signing = WebhookSigning.HMAC_SIGNATURE;

  WebhookSender(TaskBook book, DeliveryLinks links, InstantSource clock) {
    this.book = book;
    this.links = links;
    this.clock = clock;
  }

  void setSigning(WebhookSigning signing) {
    this.signing = signing;
  }

  List<RecordedWebhook> sent() {
    return List.copyOf(sent);
  }

  /** Calls the task's webhook when it ends. */
  void schedule(Task task) {
    Instant end =
        book.workTime() == null ? clock.instant().plus(DEFAULT_WORK_TIME) : task.readyTime();
    long delay = Math.max(0, Duration.between(clock.instant(), end).toMillis());
    timer.schedule(() -> call(task), delay, TimeUnit.MILLISECONDS);
  }

  private void call(Task task) {
    Instant readyAt = clock.instant();
    Task.Poll poll = task.end(readyAt, links);
    if (poll.justFinished()) {
      book.finished(task, poll.status());
    }
    byte[] body = poll.response().body();
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(task.order().webhookUrl()))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    String secret = task.order().webhookSecret();
    WebhookSigning how = signing;
    if (secret != null) {
      switch (how) {
        case HMAC_SIGNATURE -> request.header("X-BFL-Signature", "sha256=" + hmac(secret, body));
        case SECRET_HEADER -> request.header("X-Webhook-Secret", secret);
        case WRONG_SIGNATURE ->
            request.header("X-BFL-Signature", "sha256=" + hmac(secret + "x", body));
        case NONE -> {}
      }
    }
    int status;
    try {
      status = http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      status = -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    sent.add(new RecordedWebhook(task.id(), poll.status(), status, readyAt, how));
  }

  static String hmac(String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
