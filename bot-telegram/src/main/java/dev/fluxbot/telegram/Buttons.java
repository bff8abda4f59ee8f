package dev.fluxbot.telegram;

import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ImageReply.FollowUp;
import dev.fluxbot.core.JobStore;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.UserError;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.methods.AnswerCallbackQuery;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.objects.CallbackQuery;
import org.telegram.telegrambots.meta.api.objects.User;
import org.telegram.telegrambots.meta.api.objects.message.MaybeInaccessibleMessage;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.ForceReplyKeyboard;

/**
 * The buttons under an image. Reroll and 2K start their job at once; Vary and Use as reference
 * ask for the prompt first (ForceReply), and the reply to that question starts it; Original as
 * file sends the stored original. Each press is answered at once, so the client stops waiting.
 */
final class Buttons {
  private static final Logger log = LoggerFactory.getLogger(Buttons.class);
  private static final Pattern PROMPT_REQUEST = Pattern.compile("^✏️ (Vary|Use as reference) job ([A-Za-z0-9]+):");

  private final BotApi api;
  private final Pacer pacer;
  private final TelegramBot.Services services;
  private final Set<Long> admins;

  Buttons(BotApi api, Pacer pacer, TelegramBot.Services services, Set<Long> admins) {
    this.api = api;
    this.pacer = pacer;
    this.services = services;
    this.admins = admins;
  }

  void press(CallbackQuery q) {
    String data = q.getData() == null ? "" : q.getData();
    MaybeInaccessibleMessage under = q.getMessage();
    if (under == null) {
      answer(q, "⚠️ That message is too old for its buttons; start a new /imagine.");
      return;
    }
    long chatId = under.getChatId();
    boolean group = !under.getChat().isUserChat();
    Requester who = TelegramBot.requester(q.getFrom(), chatId, group, admins);
    Optional<String> original = CallbackData.originalJobId(data);
    if (original.isPresent()) {
      answer(q, null);
      sendOriginal(original.get(), chatId, under.getMessageId(), q.getFrom().getId(), group);
      return;
    }
    ActionRef ref;
    try {
      ref = CallbackData.decode(data);
    } catch (IllegalArgumentException e) {
      answer(q, "⚠️ This button is not fluxbot's, or comes from an older version.");
      return;
    }
    answer(q, null);
    if (ref.followUp() == FollowUp.VARY || ref.followUp() == FollowUp.USE_AS_REFERENCE) {
      askForPrompt(ref, chatId, under.getMessageId(), q.getFrom(), group);
      return;
    }
    followUp(who, ref.jobId(), ref.followUp(), null, chatId, under.getMessageId(), q.getFrom().getId(), group);
  }

  /**
   * Asks for the prompt of a Vary or Use as reference with a ForceReply message. Its text names
   * the job, so the reply works after a restart; in a group it mentions the presser, whose client
   * alone then opens the reply (selective).
   */
  private void askForPrompt(ActionRef ref, long chatId, int under, User presser, boolean group) {
    boolean vary = ref.followUp() == FollowUp.VARY;
    String was = vary ? services.jobs().find(ref.jobId()).map(j -> "\nThe prompt was: " + j.request().prompt()).orElse("") : "";
    String mention = !group || presser.getUserName() == null ? "" : "\n@" + presser.getUserName();
    String text = Texts.cut("✏️ " + ref.followUp().label() + " job " + ref.jobId() + ": reply to this message with the "
        + (vary ? "new prompt." : "prompt for a new image made from this one.") + was, Texts.MAX_TEXT - mention.length())
        + mention;
    api.call("sendMessage", () -> api.client().execute(SendMessage.builder().chatId(chatId).text(text)
        .replyMarkup(ForceReplyKeyboard.builder().forceReply(true).selective(!mention.isEmpty())
            .inputFieldPlaceholder(vary ? "the new prompt" : "what to make").build())
        .replyParameters(TelegramReply.replyTo(under)).build()));
  }

  /** A reply to one of the bot's "reply with the new prompt" messages runs that follow-up; anything else is ignored. */
  void promptReply(Message m) {
    Message asked = m.getReplyToMessage();
    if (asked == null || asked.getFrom() == null || !Boolean.TRUE.equals(asked.getFrom().getIsBot()) || !m.hasText()
        || asked.getText() == null) {
      return;
    }
    Matcher match = PROMPT_REQUEST.matcher(asked.getText());
    if (!match.find()) {
      return;
    }
    FollowUp action = match.group(1).equals("Vary") ? FollowUp.VARY : FollowUp.USE_AS_REFERENCE;
    boolean group = !m.getChat().isUserChat();
    followUp(TelegramBot.requester(m.getFrom(), m.getChat().getId(), group, admins), match.group(2), action, m.getText(), m.getChat().getId(),
        m.getMessageId(), m.getFrom().getId(), group);
  }

  private void followUp(Requester who, String jobId, FollowUp action, String prompt, long chatId, int answerTo, long userId,
      boolean group) {
    Message status = api.call("sendMessage", () -> api.client().execute(SendMessage.builder().chatId(chatId)
        .text("⏳ " + action.label() + ": working on it…").replyParameters(TelegramReply.replyTo(answerTo)).build()));
    ReplyAddress address = new ReplyAddress(chatId, status.getMessageId(), answerTo, userId, group);
    services.imagine().followUp(who, jobId, action, prompt, new TelegramReply(api, pacer, address), address.toJson());
  }

  private void sendOriginal(String jobId, long chatId, int under, long userId, boolean group) {
    TelegramReply reply = new TelegramReply(api, pacer, new ReplyAddress(chatId, null, under, userId, group));
    Optional<JobStore.Job> job = services.jobs().find(jobId);
    Optional<byte[]> bytes = job.filter(j -> j.imageHash() != null).flatMap(j -> services.images().get(j.imageHash()));
    if (bytes.isEmpty()) {
      reply.failed(new UserError(UserError.Code.INVALID_REFERENCE, "Original as file: job " + jobId
          + " has no stored image (it was removed, or the job did not finish). Start a new /imagine."));
      return;
    }
    JobStore.Job j = job.get();
    String ext = j.imageType() == null ? "jpg" : j.imageType().extension();
    reply.sendDocument(bytes.get(), "fluxbot-" + j.request().seed() + "." + ext, "The original, " + j.width() + "×"
        + j.height() + ", " + Texts.mb(bytes.get().length) + ".", under, null);
  }

  private void answer(CallbackQuery q, String text) {
    try {
      api.call("answerCallbackQuery", () -> api.client().execute(AnswerCallbackQuery.builder().callbackQueryId(q.getId())
          .text(text).showAlert(text != null).build()));
    } catch (BotApi.Failure e) {
      log.debug("telegram: answerCallbackQuery: {}", e.getMessage());
    }
  }
}
