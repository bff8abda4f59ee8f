package dev.fluxbot.telegram;

import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.chat.ChatTexts;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.methods.groupadministration.GetChatMember;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.objects.Update;
import org.telegram.telegrambots.meta.api.objects.User;
import org.telegram.telegrambots.meta.api.objects.message.Message;

/**
 * What a {@link TelegramBot} does with each update: a button press goes to {@link Buttons}; a
 * message is a command ({@code /imagine} with its photos, album or replied-to images, {@code
 * /quota}, {@code /settings}, {@code /admin}, {@code /help}) or the reply to a prompt request. Each
 * update runs on a virtual thread of its own; an album's items are gathered first.
 */
final class Updates {
  // logs under TelegramBot's name, as before the split
  private static final Logger log = LoggerFactory.getLogger(TelegramBot.class);
  private static final String PLATFORM = TelegramBot.PLATFORM;
  static final String HELP =
      """
      Send /imagine and a prompt, e.g. /imagine a red fox in snow --ar 16:9
      Flags: --model klein|klein-9b|pro|max|flex, --ar 16:9, --size 1024x768, --res 2k, --seed 42|last, --format png, --safety 0-5, --no-cache.
      References: put /imagine … in the caption of a photo, an image file or an album, or reply /imagine … to a message with images.
      Under each image: Reroll, Vary (reply with the new prompt), 2K, Original as file, Use as reference.
      /quota: your credits · /settings: your defaults · /admin: for admins""";

  private final TelegramBot.Config config;
  private final ChatServices services;
  private final BotApi api;
  private final Pacer pacer;
  private final ChatCommands commands;
  private final Buttons buttons;
  private final References references;
  private volatile Albums albums;
  private volatile CommandText commandText;
  private volatile String deliveryScope;

  Updates(
      TelegramBot.Config config,
      ChatServices services,
      BotApi api,
      Pacer pacer,
      ChatCommands commands,
      Buttons buttons) {
    this.config = config;
    this.services = services;
    this.api = api;
    this.pacer = pacer;
    this.commands = commands;
    this.buttons = buttons;
    this.references = new References(api);
  }

  /**
   * The bot as {@code getMe} said, before the first update: commands may name it ({@code
   * /imagine@bot}); its id sets its albums and updates apart from other bots' on the database.
   */
  void named(String username, long botId) {
    commandText = new CommandText(username);
    String scope = PLATFORM + ":" + botId;
    deliveryScope = scope + ":update:";
    albums =
        new Albums(
            config.albumQuiet(), Sleeper.SYSTEM, services.state().groups(), scope, this::album);
  }

  /**
   * Takes a batch of updates: album items are gathered, the rest handled each on a thread. An
   * update seen before (by any instance on the database: Telegram sends a webhook's update again
   * when its answer was lost; a new poller is sent what the last one did not confirm) is dropped.
   */
  void consume(List<Update> updates) {
    dev.fluxbot.core.LogContext.platform("telegram");
    for (Update u : updates) {
      if (!services.deliveries().first(deliveryScope + u.getUpdateId())) {
        log.info("telegram: update {} came again; handled once already", u.getUpdateId());
        continue;
      }
      if (u.hasMessage() && u.getMessage().getMediaGroupId() != null) {
        albums.add(u.getMessage()); // gathered first, in arrival order
      } else {
        Thread.ofVirtual().name("telegram-update-" + u.getUpdateId()).start(() -> handle(u));
      }
    }
  }

  private void handle(Update u) {
    dev.fluxbot.core.LogContext.platform("telegram"); // this thread handles this update alone
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
    dev.fluxbot.core.LogContext.platform("telegram");
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
      send(m, Texts.error(notImage.get(), who.locale()));
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
              e,
              who.locale())); // refused before any status: no "Working on it…" that turns into an
      // error
      return;
    }
    Message status = send(m, "⏳ " + Messages.format(who.locale(), "telegram.working.start"));
    ReplyAddress address =
        new ReplyAddress(
            m.getChat().getId(),
            status.getMessageId(),
            m.getMessageId(),
            m.getFrom().getId(),
            group,
            who.locale());
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
    TelegramBot.refuseIfBanned(services.quota(), command.requester(), model);
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
      dev.fluxbot.core.LogContext.failed(log, "telegram: admin command", e);
      answer = ChatTexts.failed(e, Messages.locale(m.getFrom().getLanguageCode()));
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

  private Requester requester(User user, long chatId, boolean group) {
    return TelegramBot.requester(user, chatId, group, config.adminUserIds());
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
