package dev.fluxbot.telegram;

import dev.fluxbot.core.store.LeaderLock;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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

  /** How often a standby tries to take the polling lock. */
  static final Duration RETRY_EVERY = Duration.ofSeconds(5);

  /** How often the polling instance checks that it still holds the lock. */
  static final Duration CHECK_EVERY = Duration.ofSeconds(5);

  private final CountDownLatch stopped = new CountDownLatch(1);
  private TelegramBotsLongPollingApplication polling; // guarded by this
  private Polls polls; // guarded by this
  private LeaderLock lock;
  private String username;
  private Thread watcher;
  private WebhookServer webhookServer;
  private volatile InetSocketAddress webhookAddress;
  private volatile boolean webhookSet;

  /**
   * @param consumer takes each batch of updates, in the order Telegram sent them
   */
  UpdateFeed(TelegramBot.Config config, BotApi api, Consumer<List<Update>> consumer) {
    this.config = config;
    this.api = api;
    this.consumer = consumer;
  }

  /**
   * Long polling for the bot {@code username}, by one instance at a time: this one polls while it
   * holds {@code lock} (on SQLite, always). A standby makes no {@code getUpdates} call; it says so
   * once, tries the lock every {@link #RETRY_EVERY} and polls when it gets it. The leader checks
   * its lock every {@link #CHECK_EVERY} and stops polling when it lost it (its database connection
   * broke). The lock is released when the feed closes.
   *
   * @throws IllegalStateException when telegrambots does not start polling
   */
  void poll(String username, LeaderLock lock) {
    this.lock = lock;
    this.username = username;
    if (lock.tryAcquire()) {
      try {
        startPolling();
      } catch (IllegalStateException e) {
        lock.close();
        throw e;
      }
    } else {
      log.info("telegram: another instance is polling Telegram; standing by");
    }
    watcher = Thread.ofVirtual().name("telegram-leader").start(this::watch);
  }

  /** The leader's check and the standby's retry, until the feed closes. */
  private void watch() {
    try {
      while (!stopped.await(
          (polling() ? CHECK_EVERY : RETRY_EVERY).toMillis(), TimeUnit.MILLISECONDS)) {
        synchronized (this) {
          if (stopped.getCount() == 0) {
            return;
          }
          if (polling != null) {
            if (!lock.check()) {
              log.warn(
                  "telegram: lost the polling lock (its database connection broke); stopped"
                      + " polling, another instance may take over");
              stopPolling();
            }
          } else if (lock.tryAcquire()) {
            takeOver();
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void takeOver() {
    try {
      startPolling();
      log.info("telegram: no other instance polls Telegram now; this one took over");
    } catch (IllegalStateException e) {
      log.warn("telegram: {}; trying again in {} s", e.getMessage(), RETRY_EVERY.toSeconds());
      lock.release();
    }
  }

  /** Whether this instance polls now (it holds the lock). */
  synchronized boolean polling() {
    return polling != null;
  }

  /**
   * Starts telegrambots' poller.
   *
   * @throws IllegalStateException when telegrambots does not start polling
   */
  private void startPolling() {
    Polls polls = new Polls(Duration.ofSeconds(config.pollTimeoutSeconds() + 15L));
    TelegramBotsLongPollingApplication app =
        new TelegramBotsLongPollingApplication(
            com.fasterxml.jackson.databind.ObjectMapper::new, polls::client);
    int timeout = config.pollTimeoutSeconds();
    try {
      app.registerBot(
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
      stop(app, polls);
      throw new IllegalStateException(
          "Telegram long polling did not start (" + e.getClass().getSimpleName() + ")");
    }
    this.polls = polls;
    this.polling = app;
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
    webhookSet = true;
    log.info("telegram: receiving updates for @{} by webhook at {}", username, url);
  }

  /**
   * The feed's connection now: by webhook, connected once Telegram took the webhook; by long
   * polling, connected while the last poll was answered, or standing by while another instance
   * polls.
   */
  synchronized dev.fluxbot.core.chat.ChatConnection.Status connection() {
    if (stopped.getCount() == 0) {
      return dev.fluxbot.core.chat.ChatConnection.Status.disconnected("closed");
    }
    if (webhookServer != null) {
      return webhookSet
          ? dev.fluxbot.core.chat.ChatConnection.Status.connected("webhook")
          : dev.fluxbot.core.chat.ChatConnection.Status.connecting("setting the webhook");
    }
    if (lock == null) {
      return dev.fluxbot.core.chat.ChatConnection.Status.connecting("not started");
    }
    if (polling == null) {
      return dev.fluxbot.core.chat.ChatConnection.Status.connected(
          "standby: another instance polls Telegram");
    }
    return polls.answering()
        ? dev.fluxbot.core.chat.ChatConnection.Status.connected("long polling")
        : dev.fluxbot.core.chat.ChatConnection.Status.disconnected(
            "long polling: the last getUpdates failed");
  }

  /** Where the webhook listens, once started in webhook mode. */
  Optional<InetSocketAddress> webhookAddress() {
    return Optional.ofNullable(webhookAddress);
  }

  /**
   * Stops the webhook's server, or the poller without waiting out its held poll, and releases the
   * polling lock.
   */
  void close() {
    if (webhookServer != null) {
      webhookServer.close();
    }
    stopped.countDown();
    if (watcher != null) {
      watcher.interrupt();
    }
    synchronized (this) {
      stopPolling();
      if (lock != null) {
        lock.close();
      }
    }
  }

  private void stopPolling() {
    if (polling != null) {
      stop(polling, polls);
      polling = null;
      polls = null;
    }
  }

  /** Stops a poller without waiting out its held poll. */
  private static void stop(TelegramBotsLongPollingApplication app, Polls polls) {
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
    polls.cutShort(); // a poll still held ends with no updates
    polls.shutdown();
  }
}
