package dev.fluxbot.telegram;

import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.chat.Unreachable;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.JobStore;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.methods.GetMe;
import org.telegram.telegrambots.meta.api.methods.commands.SetMyCommands;
import org.telegram.telegrambots.meta.api.objects.User;
import org.telegram.telegrambots.meta.api.objects.commands.BotCommand;

/**
 * The Telegram adapter over the core: {@code /imagine} (also {@code /imagine@bot} in groups) with
 * references from the photo or image file it captions, from every image of an album, or from the
 * message it replies to; {@code /quota}, {@code /settings}, {@code /admin}; and the buttons under
 * each image. Vary and Use as reference ask for the new prompt with a ForceReply message; the
 * user's reply to it runs the job (it carries the job in a hidden link, so it works across
 * restarts).
 *
 * <p>Updates arrive by long polling, or by webhook ({@link Webhook}). Several instances may serve
 * one bot on one PostgreSQL database: one of them polls at a time (the others stand by and take
 * over when it is gone), and behind a load balancer in webhook mode an album whose items reach
 * different instances is gathered in the database and runs once. Every update is handled on its own
 * virtual thread; the items of an album are gathered first ({@link Albums}). Everything a chat
 * receives goes through one {@link Pacer}.
 */
public final class TelegramBot implements AutoCloseable, dev.fluxbot.core.chat.ChatConnection {
  private static final Logger log = LoggerFactory.getLogger(TelegramBot.class);
  static final String PLATFORM = ChatCommands.PLATFORM;

  /** The leader lock of the instance that polls, followed by the bot's id. */
  static final String POLLING_LOCK = "telegram-polling:";

  /**
   * @param apiBaseUrl the Bot API's base, {@code scheme://host[:port]}; null for {@code
   *     https://api.telegram.org}
   * @param adminUserIds users who may use {@code /admin} everywhere (group administrators may in
   *     their group)
   * @param albumQuiet how long an album waits for more items after its last
   * @param pollTimeoutSeconds how long one {@code getUpdates} may be held (Telegram allows up to
   *     50)
   * @param quotaZone the time zone of the quota windows, for the reset times users see
   */
  public record Config(
      Secret token,
      URI apiBaseUrl,
      Set<Long> adminUserIds,
      Duration albumQuiet,
      int pollTimeoutSeconds,
      ZoneId quotaZone,
      Webhook webhook) {
    public Config {
      Objects.requireNonNull(token, "token");
      adminUserIds = Set.copyOf(adminUserIds);
      Objects.requireNonNull(albumQuiet, "albumQuiet");
      if (pollTimeoutSeconds < 0 || pollTimeoutSeconds > 50) {
        throw new IllegalArgumentException(
            "pollTimeoutSeconds: must be 0 to 50 (Telegram's limit); got " + pollTimeoutSeconds);
      }
      Objects.requireNonNull(quotaZone, "quotaZone");
    }

    /**
     * Telegram itself, no admins, albums closed after 1.5 s, long polling with 50-second polls,
     * UTC.
     */
    public static Config of(Secret token) {
      return new Config(token, null, Set.of(), Duration.ofMillis(1500), 50, ZoneOffset.UTC, null);
    }

    public Config withApiBaseUrl(URI base) {
      return new Config(
          token, base, adminUserIds, albumQuiet, pollTimeoutSeconds, quotaZone, webhook);
    }

    public Config withAdmins(Set<Long> ids) {
      return new Config(token, apiBaseUrl, ids, albumQuiet, pollTimeoutSeconds, quotaZone, webhook);
    }

    public Config withAlbumQuiet(Duration quiet) {
      return new Config(
          token, apiBaseUrl, adminUserIds, quiet, pollTimeoutSeconds, quotaZone, webhook);
    }

    public Config withPollTimeoutSeconds(int seconds) {
      return new Config(token, apiBaseUrl, adminUserIds, albumQuiet, seconds, quotaZone, webhook);
    }

    public Config withQuotaZone(ZoneId zone) {
      return new Config(
          token, apiBaseUrl, adminUserIds, albumQuiet, pollTimeoutSeconds, zone, webhook);
    }

    /** Updates by webhook instead of long polling; null for long polling. */
    public Config withWebhook(Webhook hook) {
      return new Config(
          token, apiBaseUrl, adminUserIds, albumQuiet, pollTimeoutSeconds, quotaZone, hook);
    }
  }

  /**
   * Webhook mode: the bot listens on {@code listen} at {@code path} and tells Telegram to POST
   * updates to {@code publicUrl} with {@code secretToken}, which every request must carry.
   *
   * @param publicUrl the HTTPS URL Telegram reaches (a reverse proxy in front of {@code listen});
   *     null to use {@code http://<listen host>:<bound port><path>}, for a Bot API server on the
   *     same host
   * @param secretToken 1 to 256 of {@code A-Z a-z 0-9 _ -}, as Telegram allows
   */
  public record Webhook(URI publicUrl, InetSocketAddress listen, String path, Secret secretToken) {
    public Webhook {
      Objects.requireNonNull(listen, "listen");
      Objects.requireNonNull(secretToken, "secretToken");
      if (path == null || !path.startsWith("/")) {
        throw new IllegalArgumentException(
            "telegram.webhook.path: must start with /; got "
                + (path == null ? "nothing" : "\"" + path + "\""));
      }
      if (!secretToken.reveal().matches("[A-Za-z0-9_-]{1,256}")) {
        throw new IllegalArgumentException(
            "telegram.webhook secret token (FLUXBOT_TELEGRAM_WEBHOOK_SECRET): Telegram allows 1 to 256"
                + " of A-Z, a-z, 0-9, _ and -; the one given has "
                + secretToken.reveal().length()
                + " characters, some of them others. Generate one with: openssl rand -hex 32");
      }
    }
  }

  private final Config config;
  private final ChatServices services;
  private final OkHttpClient http;
  private final BotApi api;
  private final Pacer pacer;
  private final Updates updates;
  private final UpdateFeed feed;
  private volatile String username;

  public TelegramBot(Config config, ChatServices services) {
    this.config = Objects.requireNonNull(config, "config");
    this.services = Objects.requireNonNull(services, "services");
    this.http =
        new OkHttpClient.Builder()
            .connectTimeout(Duration.ofSeconds(10))
            .readTimeout(Duration.ofSeconds(60))
            .writeTimeout(Duration.ofSeconds(60))
            .build();
    this.api = new BotApi(config.token(), config.apiBaseUrl(), http, services.sleeper());
    this.pacer = new Pacer(services.clock(), api);
    ChatCommands commands =
        new ChatCommands(
            services.quota(),
            services.settings(),
            services.catalog(),
            config.quotaZone(),
            services.clock());
    Buttons buttons = new Buttons(api, pacer, services, config.adminUserIds(), () -> username);
    this.updates = new Updates(config, services, api, pacer, commands, buttons);
    this.feed = new UpdateFeed(config, api, updates::consume);
  }

  /**
   * Checks the token ({@code getMe}), registers the command list and starts long polling.
   *
   * @throws IllegalStateException with a clear message when Telegram refuses the token or cannot be
   *     reached
   */
  public void start() {
    User me = me();
    username = me.getUserName();
    updates.named(username, me.getId());
    registerCommands();
    if (config.webhook() != null) {
      feed.webhook(config.webhook(), username);
      return;
    }
    feed.poll(username, services.state().leaderLock(POLLING_LOCK + me.getId()));
  }

  /** Who the token belongs to ({@code getMe}): the check that Telegram takes the token. */
  private User me() {
    try {
      return api.call("getMe", () -> api.client().execute(new GetMe()));
    } catch (BotApi.Failure e) {
      if (e.network().isPresent()) {
        throw new IllegalStateException(
            Unreachable.message(
                "Telegram's Bot API",
                "getMe",
                e.network().get(),
                config.apiBaseUrl() == null
                    ? "api.telegram.org"
                    : config.apiBaseUrl().getHost() + " (telegram.api_base_url)"));
      }
      throw new IllegalStateException(
          e.errorCode() == 401 || e.errorCode() == 404
              ? "Telegram refused the bot token (FLUXBOT_TELEGRAM_TOKEN): "
                  + e.getMessage()
                  + ". Copy it again from @BotFather (/mybots → your bot → API Token)."
              : "Telegram's Bot API did not answer getMe ("
                  + e.getMessage()
                  + "); check telegram.api_base_url and the network.");
    }
  }

  /** The command list Telegram shows in the chat's menu; a failure is logged, not fatal. */
  private void registerCommands() {
    try {
      api.call(
          "setMyCommands",
          () ->
              api.client()
                  .execute(
                      SetMyCommands.builder()
                          .commands(
                              List.of(
                                  new BotCommand(
                                      "imagine", "Make an image: /imagine a red fox --ar 16:9"),
                                  new BotCommand("quota", "Your credits and when they reset"),
                                  new BotCommand(
                                      "settings", "Your defaults: --model, --ar, --format"),
                                  new BotCommand(
                                      "admin", "Quotas and this group's settings (admins)"),
                                  new BotCommand("help", "How to use fluxbot")))
                          .build()));
    } catch (BotApi.Failure e) {
      log.warn("telegram: could not register the command list: {}", e.getMessage());
    }
  }

  /** Where the webhook listens, once started in webhook mode. */
  public Optional<InetSocketAddress> webhookAddress() {
    return feed.webhookAddress();
  }

  /**
   * Whether this instance polls Telegram now: in polling mode, of the instances on one database,
   * the one that holds the polling lock.
   */
  public boolean polling() {
    return feed.polling();
  }

  @Override
  public String platform() {
    return PLATFORM;
  }

  /**
   * Long polling: connected while Telegram answered the last {@code getUpdates} (or another
   * instance polls and this one stands by); webhook: connected once Telegram took it. No I/O.
   */
  @Override
  public Status connection() {
    return feed.connection();
  }

  /** The bot's username, as {@code getMe} said; null before {@link #start}. */
  public String username() {
    return username;
  }

  /** Rebuilds a stored job's reply, for delivery after a restart; empty if it is not Telegram's. */
  public Optional<ChatReply> replyFor(JobStore.Job job) {
    return ReplyAddress.parse(job.replyAddress()).map(a -> new TelegramReply(api, pacer, a));
  }

  @Override
  public void close() {
    feed.close();
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  /**
   * Refuses a banned user as the core would when the job starts: a hold of nothing checks only the
   * ban and holds no credits (the job id it names is never stored).
   *
   * @throws UserError {@code BANNED}, with the ban's reason
   */
  static void refuseIfBanned(QuotaService quota, Requester who, String modelId) {
    if (!who.isOperator()) {
      quota.reserve(who, "check-" + who.key(), modelId, 0, false);
    }
  }

  /**
   * Who acts: the user, in the group's scope (none in a private chat); configured admins are admins
   * everywhere.
   */
  static Requester requester(User user, long chatId, boolean group, Set<Long> admins) {
    String name =
        user.getUserName() != null
            ? user.getUserName()
            : (user.getFirstName() + (user.getLastName() == null ? "" : " " + user.getLastName()))
                .strip();
    return new Requester(
        PLATFORM,
        Long.toString(user.getId()),
        name,
        group ? Long.toString(chatId) : null,
        Set.of(),
        admins.contains(user.getId()),
        Messages.locale(user.getLanguageCode()));
  }
}
