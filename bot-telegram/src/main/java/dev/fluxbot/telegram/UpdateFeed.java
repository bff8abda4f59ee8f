package dev.fluxbot.telegram;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.longpolling.TelegramBotsLongPollingApplication;
import org.telegram.telegrambots.longpolling.interfaces.LongPollingUpdateConsumer;
import org.telegram.telegrambots.meta.api.methods.updates.GetUpdates;
import org.telegram.telegrambots.meta.api.methods.updates.SetWebhook;
import org.telegram.telegrambots.meta.api.objects.Update;
import org.telegram.telegrambots.meta.exceptions.TelegramApiException;

/**
 * Where a {@link TelegramBot}'s updates come from: long polling, or a webhook Telegram posts to;
 * started once the token is checked, stopped when the bot closes.
 */
final class UpdateFeed {
  // logs under TelegramBot's name, as before the split
  private static final Logger log = LoggerFactory.getLogger(TelegramBot.class);

  private final TelegramBot.Config config;
  private final BotApi api;
  private final Consumer<List<Update>> consumer;
  private TelegramBotsLongPollingApplication polling;
  private Polls polls;
  private WebhookServer webhookServer;
  private volatile InetSocketAddress webhookAddress;

  /**
   * @param consumer takes each batch of updates, in the order Telegram sent them
   */
  UpdateFeed(TelegramBot.Config config, BotApi api, Consumer<List<Update>> consumer) {
    this.config = config;
    this.api = api;
    this.consumer = consumer;
  }

  /**
   * Starts long polling for the bot {@code username}.
   *
   * @throws IllegalStateException when telegrambots does not start polling
   */
  void poll(String username) {
    Polls polls = new Polls(Duration.ofSeconds(config.pollTimeoutSeconds() + 15L));
    this.polls = polls;
    polling =
        new TelegramBotsLongPollingApplication(
            com.fasterxml.jackson.databind.ObjectMapper::new, polls::client);
    int timeout = config.pollTimeoutSeconds();
    try {
      polling.registerBot(
          config.token().reveal(),
          () ->
              BotApi.telegramUrl(
                  config.apiBaseUrl() == null ? BotApi.DEFAULT_BASE : config.apiBaseUrl()),
          last ->
              GetUpdates.builder()
                  .offset(last + 1)
                  .timeout(timeout)
                  .limit(100)
                  .allowedUpdates(List.of("message", "callback_query"))
                  .build(),
          (LongPollingUpdateConsumer) consumer::accept);
    } catch (TelegramApiException e) {
      throw new IllegalStateException(
          "Telegram long polling did not start (" + e.getClass().getSimpleName() + ")");
    }
    log.info("telegram: polling as @{}", username);
  }

  /**
   * Listens for the webhook, then tells Telegram where it is ({@code setWebhook}).
   *
   * @throws IllegalStateException when Telegram refuses the webhook's URL
   */
  void webhook(TelegramBot.Webhook hook, String username) {
    webhookServer = new WebhookServer(hook, consumer);
    webhookAddress = webhookServer.start();
    String url =
        hook.publicUrl() != null
            ? hook.publicUrl().toString()
            : "http://"
                + webhookAddress.getHostString()
                + ":"
                + webhookAddress.getPort()
                + hook.path();
    try {
      api.call(
          "setWebhook",
          () ->
              api.client()
                  .execute(
                      SetWebhook.builder()
                          .url(url)
                          .secretToken(hook.secretToken().reveal())
                          .allowedUpdates(List.of("message", "callback_query"))
                          .build()));
    } catch (BotApi.Failure e) {
      webhookServer.close();
      throw new IllegalStateException(
          "Telegram refused the webhook "
              + url
              + " ("
              + e.getMessage()
              + "); check telegram.webhook.public_url: Telegram needs HTTPS on port 443, 80, 88 or 8443.");
    }
    log.info("telegram: receiving updates for @{} by webhook at {}", username, url);
  }

  /** Where the webhook listens, once started in webhook mode. */
  Optional<InetSocketAddress> webhookAddress() {
    return Optional.ofNullable(webhookAddress);
  }

  /** Stops the webhook's server, or the poller without waiting out its held poll. */
  void close() {
    if (webhookServer != null) {
      webhookServer.close();
    }
    if (polling != null) {
      TelegramBotsLongPollingApplication app = polling;
      polls.closing(); // the held poll ends with no updates, not as a failure telegrambots logs at
      // ERROR
      Thread stopper =
          Thread.ofVirtual()
              .name("telegram-stop")
              .start(
                  () -> {
                    try {
                      app.close();
                    } catch (Exception e) {
                      log.debug("telegram: stopping the poller: {}", e.toString());
                    }
                  });
      // the poller waits for its held getUpdates (up to 50 s) unless that call is cut short
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      try {
        while (stopper.isAlive() && System.nanoTime() < deadline) {
          polls.cutShort();
          stopper.join(Duration.ofMillis(100));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      polls.shutdown();
    }
  }
}
