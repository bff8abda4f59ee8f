package dev.fluxbot.telegram;

import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.JobStore;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.longpolling.TelegramBotsLongPollingApplication;
import org.telegram.telegrambots.longpolling.interfaces.LongPollingUpdateConsumer;
import org.telegram.telegrambots.meta.api.methods.GetMe;
import org.telegram.telegrambots.meta.api.methods.commands.SetMyCommands;
import org.telegram.telegrambots.meta.api.methods.groupadministration.GetChatMember;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.methods.updates.GetUpdates;
import org.telegram.telegrambots.meta.api.methods.updates.SetWebhook;
import org.telegram.telegrambots.meta.api.objects.Update;
import org.telegram.telegrambots.meta.api.objects.User;
import org.telegram.telegrambots.meta.api.objects.commands.BotCommand;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.exceptions.TelegramApiException;

/**
 * The Telegram adapter over the core: {@code /imagine} (also {@code /imagine@bot} in groups) with
 * references from the photo or image file it captions, from every image of an album, or from the
 * message it replies to; {@code /quota}, {@code /settings}, {@code /admin}; and the buttons under
 * each image. Vary and Use as reference ask for the new prompt with a ForceReply message; the
 * user's reply to it runs the job (it carries the job in a hidden link, so it works across
 * restarts).
 *
 * <p>Updates arrive by long polling, or by webhook ({@link Webhook}). Every update is handled on
 * its own virtual thread; the items of an album are gathered first ({@link Albums}). Everything a
 * chat receives goes through one {@link Pacer}.
 */
public final class TelegramBot implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TelegramBot.class);
  static final String PLATFORM = ChatCommands.PLATFORM;
  static final String HELP =
      """
      Send /imagine and a prompt, e.g. /imagine a red fox in snow --ar 16:9
      Flags: --model klein|klein-9b|pro|max|flex, --ar 16:9, --size 1024x768, --res 2k, --seed 42|last, --format png, --safety 0-5, --no-cache.
      References: put /imagine … in the caption of a photo, an image file or an album, or reply /imagine … to a message with images.
      Under each image: Reroll, Vary (reply with the new prompt), 2K, Original as file, Use as reference.
      /quota: your credits · /settings: your defaults · /admin: for admins""";

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
  private final ChatCommands commands;
  private final Albums albums;
  private final References references;
  private final Buttons buttons;
  private volatile CommandText commandText;
  private volatile String username;
  private TelegramBotsLongPollingApplication polling;
  private Polls polls;
  private WebhookServer webhookServer;
  private volatile InetSocketAddress webhookAddress;

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
    this.commands =
        new ChatCommands(
            services.quota(),
            services.settings(),
            services.catalog(),
            config.quotaZone(),
            services.clock());
    this.albums = new Albums(config.albumQuiet(), Sleeper.SYSTEM, this::album);
    this.references = new References(api);
    this.buttons = new Buttons(api, pacer, services, config.adminUserIds(), () -> username);
  }

  /**
   * Checks the token ({@code getMe}), registers the command list and starts long polling.
   *
   * @throws IllegalStateException with a clear message when Telegram refuses the token or cannot be
   *     reached
   */
  public void start() {
    User me;
    try {
      me = api.call("getMe", () -> api.client().execute(new GetMe()));
    } catch (BotApi.Failure e) {
      throw new IllegalStateException(
          e.errorCode() == 401 || e.errorCode() == 404
              ? "Telegram refused the bot token (FLUXBOT_TELEGRAM_TOKEN): "
                  + e.getMessage()
                  + ". Copy it again from @BotFather (/mybots → your bot → API Token)."
              : "Telegram's Bot API did not answer getMe ("
                  + e.getMessage()
                  + "); check telegram.api_base_url and the network.");
    }
    username = me.getUserName();
    commandText = new CommandText(username);
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
    if (config.webhook() != null) {
      startWebhook(config.webhook());
      return;
    }
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
          (LongPollingUpdateConsumer) this::consume);
    } catch (TelegramApiException e) {
      throw new IllegalStateException(
          "Telegram long polling did not start (" + e.getClass().getSimpleName() + ")");
    }
    log.info("telegram: polling as @{}", username);
  }

  private void startWebhook(Webhook hook) {
    webhookServer = new WebhookServer(hook, this::consume);
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
  public Optional<InetSocketAddress> webhookAddress() {
    return Optional.ofNullable(webhookAddress);
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
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  // --- updates ---

  private void consume(List<Update> updates) {
    for (Update u : updates) {
      if (u.hasMessage() && u.getMessage().getMediaGroupId() != null) {
        albums.add(u.getMessage()); // gathered first, in arrival order
      } else {
        Thread.ofVirtual().name("telegram-update-" + u.getUpdateId()).start(() -> handle(u));
      }
    }
  }

  private void handle(Update u) {
    try {
      if (u.hasCallbackQuery()) {
        buttons.press(u.getCallbackQuery());
      } else if (u.hasMessage()) {
        message(u.getMessage(), List.of(u.getMessage()));
      }
    } catch (RuntimeException e) {
      log.warn("telegram: update {} failed: {}", u.getUpdateId(), e.toString());
    }
  }

  private void album(List<Message> items) {
    Thread.ofVirtual()
        .name("telegram-album")
        .start(
            () -> {
              try {
                for (Message m : items) {
                  if (commandText.argumentsOf("imagine", m).isPresent()) {
                    if (items.size() == 1 && m.getFrom() != null && m.getSenderChat() == null) {
                      send(
                          m,
                          loneAlbumItem(
                              !m.getChat()
                                  .isUserChat())); // an album has 2 to 10 items: never run with one
                    } else {
                      message(m, items);
                    }
                    return;
                  }
                }
              } catch (RuntimeException e) {
                log.warn("telegram: album failed: {}", e.toString());
              }
            });
  }

  /** Why an album's command did not run when only its captioned item arrived, and what to do. */
  static String loneAlbumItem(boolean group) {
    return group
        ? "⚠️ Only one image of this album reached me, so I did not start it. In a group, Telegram shows me only the"
            + " messages meant for me: of an album, just the item with /imagine in its caption. Ask a group administrator"
            + " to make me an administrator here (or whoever runs the bot to turn off its privacy mode: /setprivacy in"
            + " @BotFather), then send the album again."
        : "⚠️ Only one image of this album reached me, so I did not start it: the others did not arrive in time. Send the"
            + " album again.";
  }

  /** Why a reply to an item of an album the bot never saw whole did not run, and what to do. */
  static String unseenAlbum(boolean group) {
    return "⚠️ That image is one of an album, and I do not have the album's other images"
        + (group
            ? " (in a group, Telegram shows me only the messages meant for me, unless I am an administrator"
                + " there; or I restarted since)"
            : " (I restarted since it was sent)")
        + ", so I did not start it. Send the album again with /imagine in the caption of one of its images"
        + (group ? ", after a group administrator makes me an administrator here" : "")
        + ".";
  }

  /**
   * @param withImages the messages whose images the command uses: the message itself, or its whole
   *     album
   */
  private void message(Message m, List<Message> withImages) {
    if (m.getFrom() == null) {
      return;
    }
    if (m.getSenderChat() != null) {
      sentAsChat(m);
      return;
    }
    if (Boolean.TRUE.equals(m.getFrom().getIsBot())) {
      return;
    }
    CommandText ct = commandText;
    Optional<String> imagine = ct.argumentsOf("imagine", m);
    if (imagine.isPresent()) {
      imagine(m, imagine.get(), withImages);
      return;
    }
    Optional<String> quota = ct.argumentsOf("quota", m);
    if (quota.isPresent()) {
      send(
          m,
          commands.quota(requester(m.getFrom(), m.getChat().getId(), !m.getChat().isUserChat())));
      return;
    }
    Optional<String> settings = ct.argumentsOf("settings", m);
    if (settings.isPresent()) {
      send(
          m,
          commands.settings(
              requester(m.getFrom(), m.getChat().getId(), !m.getChat().isUserChat()),
              settings.get()));
      return;
    }
    Optional<String> admin = ct.argumentsOf("admin", m);
    if (admin.isPresent()) {
      admin(m, admin.get());
      return;
    }
    if (ct.argumentsOf("help", m).isPresent() || ct.argumentsOf("start", m).isPresent()) {
      send(m, HELP);
      return;
    }
    buttons.promptReply(m);
  }

  // --- /imagine ---

  private void imagine(Message m, String text, List<Message> withImages) {
    boolean group = !m.getChat().isUserChat();
    Requester who = requester(m.getFrom(), m.getChat().getId(), group);
    Optional<UserError> notImage = References.notAnImage(withImages);
    if (notImage.isPresent()) {
      send(m, Texts.error(notImage.get()));
      return;
    }
    List<Message> sources =
        new ArrayList<>(withImages.stream().filter(References::hasImage).toList());
    if (sources.isEmpty()
        && m.getReplyToMessage() != null
        && References.hasImage(m.getReplyToMessage())) {
      Message target = m.getReplyToMessage();
      Optional<List<Message>> album =
          target.getMediaGroupId() == null
              ? Optional.of(List.of(target))
              : albums.recent(target.getMediaGroupId());
      if (album.isEmpty()) {
        send(
            m,
            unseenAlbum(
                group)); // a reply to an album item means the whole album: never just the one item
        return;
      }
      sources.addAll(album.get());
    }
    ImagineCommand command;
    try {
      command =
          new ImagineCommand(
              who,
              text,
              Map.of(),
              references.download(sources),
              services.settings().contextFor(who));
      refuseEarly(command);
    } catch (UserError e) {
      send(
          m,
          Texts.error(
              e)); // refused before any status: no "Working on it…" that turns into an error
      return;
    }
    Message status = send(m, "⏳ Working on it…");
    ReplyAddress address =
        new ReplyAddress(
            m.getChat().getId(),
            status.getMessageId(),
            m.getMessageId(),
            m.getFrom().getId(),
            group);
    services
        .imagine()
        .runOrSubmit(command, new TelegramReply(api, pacer, address), address.toJson());
  }

  /**
   * Refuses what the core would refuse before the job starts, so that no status goes up first: a
   * command that does not parse (flags, prompt, references), and a banned user.
   *
   * @throws UserError with what the user sees
   */
  private void refuseEarly(ImagineCommand command) {
    String model;
    try {
      model = services.imagine().plan(command).model().id();
    } catch (UserError e) {
      throw e;
    } catch (RuntimeException e) {
      return; // not the user's doing: the core reports it, in its words, when the job starts
    }
    refuseIfBanned(services.quota(), command.requester(), model);
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
   * A message sent as a chat rather than as a person: by an administrator of this group who remains
   * anonymous ({@code sender_chat} is the group; Telegram lets only its administrators), or by
   * someone posting as their channel. {@code /admin} works for the first; the commands that spend
   * or show a person's credits are refused with what to do; a channel's post that Telegram copies
   * into its discussion group is ignored.
   */
  private void sentAsChat(Message m) {
    if (Boolean.TRUE.equals(m.getIsAutomaticForward())) {
      return;
    }
    CommandText ct = commandText;
    boolean asThisGroup = m.getSenderChat().getId().equals(m.getChat().getId());
    Optional<String> admin = ct.argumentsOf("admin", m);
    if (admin.isPresent() && asThisGroup) {
      runAdmin(m, admin.get());
      return;
    }
    if (Stream.of("imagine", "quota", "settings", "admin")
        .anyMatch(c -> ct.argumentsOf(c, m).isPresent())) {
      send(
          m,
          asThisGroup
              ? "🕶 You are posting anonymously, as the group, so I cannot tell whose credits to use. Send it as yourself "
                  + "(turn off \"Remain anonymous\" in your administrator rights) or in a private chat with me; /admin "
                  + "works anonymously."
              : "🕶 You are posting as a channel, so I cannot tell whose credits to use. Choose to post as yourself and "
                  + "send it again.");
    }
  }

  // --- /admin ---

  private void admin(Message m, String args) {
    long chatId = m.getChat().getId();
    boolean group = !m.getChat().isUserChat();
    if (!mayAdminister(m.getFrom().getId(), chatId, group)) {
      send(m, refusedAdmin(m.getFrom().getId(), group));
      return;
    }
    runAdmin(m, args);
  }

  /** Why /admin was refused and what to do, in words for the user: no setting names. */
  static String refusedAdmin(long userId, boolean group) {
    return group
        ? "⛔ /admin is for this group's administrators and the bot's own admins, and you are not one of them. Ask a"
            + " group administrator to make you one, or ask whoever runs the bot to add you as its admin. Your user id is "
            + userId
            + "."
        : "⛔ /admin is for the bot's own admins, and you are not one. Ask whoever runs the bot to add you as its"
            + " admin; they need your user id, "
            + userId
            + ". In a group, its administrators may use /admin there.";
  }

  /** Runs {@code /admin} for someone allowed to: in a group, for that group's scope. */
  private void runAdmin(Message m, String args) {
    long chatId = m.getChat().getId();
    boolean group = !m.getChat().isUserChat();
    Message replied = m.getReplyToMessage();
    Long repliedUser =
        replied == null
                || replied.getFrom() == null
                || Boolean.TRUE.equals(replied.getFrom().getIsBot())
            ? null
            : replied.getFrom().getId();
    String answer;
    try {
      answer = commands.admin(group ? Long.toString(chatId) : null, args, repliedUser);
    } catch (RuntimeException e) {
      log.warn("telegram: admin command failed", e);
      answer = "❌ That did not work (" + e.getMessage() + ").";
    }
    send(m, answer);
  }

  /**
   * A configured admin anywhere; in a group also its creator and administrators ({@code
   * getChatMember}).
   */
  private boolean mayAdminister(long userId, long chatId, boolean group) {
    if (config.adminUserIds().contains(userId)) {
      return true;
    }
    if (!group) {
      return false;
    }
    try {
      String status =
          api.call(
                  "getChatMember",
                  () -> api.client().execute(new GetChatMember(Long.toString(chatId), userId)))
              .getStatus();
      return status.equals("creator") || status.equals("administrator");
    } catch (BotApi.Failure e) {
      log.info("telegram: getChatMember in {} failed: {}", chatId, e.getMessage());
      return false;
    }
  }

  // --- helpers ---

  private Requester requester(User user, long chatId, boolean group) {
    return requester(user, chatId, group, config.adminUserIds());
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
        admins.contains(user.getId()));
  }

  /** Answers a message, in the chat's pace. */
  private Message send(Message to, String text) {
    return pacer.send(
        to.getChatId(),
        !to.getChat().isUserChat(),
        "sendMessage",
        () ->
            api.client()
                .execute(
                    SendMessage.builder()
                        .chatId(to.getChatId())
                        .text(Texts.cut(text, Texts.MAX_TEXT))
                        .replyParameters(TelegramReply.replyTo(to.getMessageId()))
                        .build()));
  }
}
