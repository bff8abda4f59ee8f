package dev.fluxbot.telegram;

import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ImageReply.FollowUp;
import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.ButtonPress;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.store.JobStore;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.methods.AnswerCallbackQuery;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.objects.CallbackQuery;
import org.telegram.telegrambots.meta.api.objects.LinkPreviewOptions;
import org.telegram.telegrambots.meta.api.objects.MessageEntity;
import org.telegram.telegrambots.meta.api.objects.User;
import org.telegram.telegrambots.meta.api.objects.message.MaybeInaccessibleMessage;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.ForceReplyKeyboard;

/**
 * The buttons under an image. Reroll and 2K start their job at once; Vary and Use as reference ask
 * for the prompt first (ForceReply), and the reply to that question starts it; Original as file
 * sends the stored original. Each press is answered at once, so the client stops waiting.
 */
final class Buttons {
  private static final Logger log = LoggerFactory.getLogger(Buttons.class);

  /**
   * The question's job, in a link on its first character, which is invisible (a zero-width space).
   */
  private static final Pattern JOB_LINK =
      Pattern.compile("^https://t\\.me/[A-Za-z0-9_]+\\?start=(vary|ref)-([A-Za-z0-9]+)$");

  private static final String HIDDEN = "\u200B";

  /** How the question named its job before the link: still answered after an upgrade. */
  private static final Pattern OLD_PROMPT_REQUEST =
      Pattern.compile("^✏️ (Vary|Use as reference) job ([A-Za-z0-9]+):");

  private final BotApi api;
  private final Pacer pacer;
  private final ChatServices services;
  private final Set<Long> admins;
  private final Supplier<String> botUsername;

  Buttons(
      BotApi api,
      Pacer pacer,
      ChatServices services,
      Set<Long> admins,
      Supplier<String> botUsername) {
    this.api = api;
    this.pacer = pacer;
    this.services = services;
    this.admins = admins;
    this.botUsername = botUsername;
  }

  void press(CallbackQuery q) {
    String data = q.getData() == null ? "" : q.getData();
    MaybeInaccessibleMessage under = q.getMessage();
    if (under == null) {
      answer(
          q,
          "⚠️ "
              + Messages.format(
                  Messages.locale(q.getFrom().getLanguageCode()), "telegram.button.too_old"));
      return;
    }
    long chatId = under.getChatId();
    boolean group = !under.getChat().isUserChat();
    Requester who = TelegramBot.requester(q.getFrom(), chatId, group, admins);
    Optional<String> original = CallbackData.originalJobId(data);
    if (original.isPresent()) {
      answer(q, null);
      sendOriginal(original.get(), chatId, under.getMessageId(), who, group);
      return;
    }
    ButtonPress press = ButtonPress.of(CallbackData.CARRIER, data);
    if (press instanceof ButtonPress.NotOurs) {
      answer(q, ButtonPress.notOurs(who.locale()));
      return;
    }
    answer(q, null);
    if (press instanceof ButtonPress.AskForPrompt ask) {
      askForPrompt(ask, chatId, under.getMessageId(), q.getFrom(), group, who.locale());
      return;
    }
    ActionRef ref = ((ButtonPress.Run) press).ref();
    followUp(
        who,
        ref.jobId(),
        ref.followUp(),
        null,
        chatId,
        under.getMessageId(),
        q.getFrom().getId(),
        group);
  }

  /**
   * Asks for the prompt of a Vary or Use as reference with a ForceReply message. The job it is for
   * rides in a link on its invisible first character, so the reply works after a restart and nobody
   * sees an internal id; in a group it mentions the presser, whose client alone then opens the
   * reply (selective).
   */
  private void askForPrompt(
      ButtonPress.AskForPrompt ask,
      long chatId,
      int under,
      User presser,
      boolean group,
      Locale locale) {
    ActionRef ref = ask.ref();
    boolean vary = ask.vary();
    String previous = ask.prefill(services.jobs());
    String was =
        previous.isEmpty() ? "" : "\n" + Messages.format(locale, "telegram.ask.previous", previous);
    String mention = !group || presser.getUserName() == null ? "" : "\n@" + presser.getUserName();
    String text =
        Texts.cut(
                HIDDEN
                    + "✏️ "
                    + Messages.format(
                        locale,
                        vary ? "telegram.ask.vary" : "telegram.ask.reference",
                        ref.followUp().label(locale))
                    + was,
                Texts.MAX_TEXT - mention.length())
            + mention;
    String link =
        "https://t.me/"
            + botUsername.get()
            + "?start="
            + (vary ? "vary" : "ref")
            + "-"
            + ref.jobId();
    pacer.send(
        chatId,
        group,
        "sendMessage",
        () ->
            api.client()
                .execute(
                    SendMessage.builder()
                        .chatId(chatId)
                        .text(text)
                        .entities(
                            List.of(
                                MessageEntity.builder()
                                    .type("text_link")
                                    .offset(0)
                                    .length(HIDDEN.length())
                                    .url(link)
                                    .build()))
                        .linkPreviewOptions(LinkPreviewOptions.builder().isDisabled(true).build())
                        .replyMarkup(
                            ForceReplyKeyboard.builder()
                                .forceReply(true)
                                .selective(!mention.isEmpty())
                                .inputFieldPlaceholder(
                                    Messages.format(
                                        locale,
                                        vary
                                            ? "telegram.ask.vary.placeholder"
                                            : "telegram.ask.reference.placeholder"))
                                .build())
                        .replyParameters(TelegramReply.replyTo(under))
                        .build()));
  }

  /**
   * A reply to one of the bot's "reply with the new prompt" messages runs that follow-up; anything
   * else is ignored.
   */
  void promptReply(Message m) {
    Message asked = m.getReplyToMessage();
    if (asked == null
        || asked.getFrom() == null
        || !Boolean.TRUE.equals(asked.getFrom().getIsBot())
        || !m.hasText()
        || asked.getText() == null) {
      return;
    }
    Optional<ActionRef> ref = askedFor(asked);
    if (ref.isEmpty()) {
      return;
    }
    boolean group = !m.getChat().isUserChat();
    followUp(
        TelegramBot.requester(m.getFrom(), m.getChat().getId(), group, admins),
        ref.get().jobId(),
        ref.get().followUp(),
        m.getText(),
        m.getChat().getId(),
        m.getMessageId(),
        m.getFrom().getId(),
        group);
  }

  /**
   * The follow-up a question of ours asked the prompt for: from its hidden link, or from an older
   * question's text.
   */
  static Optional<ActionRef> askedFor(Message asked) {
    for (MessageEntity e :
        asked.getEntities() == null ? List.<MessageEntity>of() : asked.getEntities()) {
      Matcher link = e.getUrl() == null ? null : JOB_LINK.matcher(e.getUrl());
      if ("text_link".equals(e.getType()) && link != null && link.matches()) {
        return Optional.of(
            new ActionRef(
                link.group(1).equals("vary") ? FollowUp.VARY : FollowUp.USE_AS_REFERENCE,
                link.group(2)));
      }
    }
    Matcher old = OLD_PROMPT_REQUEST.matcher(asked.getText());
    return old.find()
        ? Optional.of(
            new ActionRef(
                old.group(1).equals("Vary") ? FollowUp.VARY : FollowUp.USE_AS_REFERENCE,
                old.group(2)))
        : Optional.empty();
  }

  private void followUp(
      Requester who,
      String jobId,
      FollowUp action,
      String prompt,
      long chatId,
      int answerTo,
      long userId,
      boolean group) {
    Optional<UserError> refused = refusedEarly(who, jobId, action);
    if (refused.isPresent()) { // before any status: no "working on it…" that turns into an error
      new TelegramReply(
              api, pacer, new ReplyAddress(chatId, null, answerTo, userId, group, who.locale()))
          .failed(refused.get());
      return;
    }
    Message status =
        pacer.send(
            chatId,
            group,
            "sendMessage",
            () ->
                api.client()
                    .execute(
                        SendMessage.builder()
                            .chatId(chatId)
                            .text(
                                "⏳ "
                                    + Messages.format(
                                        who.locale(),
                                        "telegram.follow_up.working",
                                        action.label(who.locale())))
                            .replyParameters(TelegramReply.replyTo(answerTo))
                            .build()));
    ReplyAddress address =
        new ReplyAddress(chatId, status.getMessageId(), answerTo, userId, group, who.locale());
    services
        .imagine()
        .followUp(
            who, jobId, action, prompt, new TelegramReply(api, pacer, address), address.toJson());
  }

  /**
   * What the core would refuse before the follow-up starts, found without a status first: an image
   * whose job is no longer stored (said without its internal id), and a banned presser.
   */
  private Optional<UserError> refusedEarly(Requester who, String jobId, FollowUp action) {
    Optional<JobStore.Job> parent = services.jobs().find(jobId);
    if (parent.isEmpty()) {
      return Optional.of(
          UserError.of(
              UserError.Code.INVALID_OPTION,
              "telegram.button.gone",
              (dev.fluxbot.core.Localized) action::label));
    }
    try {
      TelegramBot.refuseIfBanned(services.quota(), who, parent.get().request().model().id());
      return Optional.empty();
    } catch (UserError e) {
      return Optional.of(e);
    }
  }

  private void sendOriginal(String jobId, long chatId, int under, Requester who, boolean group) {
    long userId = Long.parseLong(who.userId());
    TelegramReply reply =
        new TelegramReply(
            api, pacer, new ReplyAddress(chatId, null, under, userId, group, who.locale()));
    Optional<JobStore.Job> job = services.jobs().find(jobId);
    Optional<byte[]> bytes =
        job.filter(j -> j.imageHash() != null).flatMap(j -> services.images().get(j.imageHash()));
    if (bytes.isEmpty()) {
      reply.failed(UserError.of(UserError.Code.INVALID_REFERENCE, "telegram.original.gone"));
      return;
    }
    JobStore.Job j = job.get();
    String ext = j.imageType() == null ? "jpg" : j.imageType().extension();
    reply.sendDocument(
        bytes.get(),
        "fluxbot-" + j.request().seed() + "." + ext,
        Texts.original(j.width(), j.height(), bytes.get().length, who.locale()),
        under,
        null);
  }

  private void answer(CallbackQuery q, String text) {
    try {
      api.call(
          "answerCallbackQuery",
          () ->
              api.client()
                  .execute(
                      AnswerCallbackQuery.builder()
                          .callbackQueryId(q.getId())
                          .text(text)
                          .showAlert(text != null)
                          .build()));
    } catch (BotApi.Failure e) {
      log.debug("telegram: answerCallbackQuery: {}", e.getMessage());
    }
  }
}
