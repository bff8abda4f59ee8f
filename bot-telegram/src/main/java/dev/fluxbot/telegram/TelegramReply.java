package dev.fluxbot.telegram;

import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.GroupButtons;
import dev.fluxbot.core.GroupReply;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.chat.DeliveryException;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.methods.send.SendDocument;
import org.telegram.telegrambots.meta.api.methods.send.SendMediaGroup;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.methods.send.SendPhoto;
import org.telegram.telegrambots.meta.api.methods.updatingmessages.DeleteMessage;
import org.telegram.telegrambots.meta.api.methods.updatingmessages.EditMessageText;
import org.telegram.telegrambots.meta.api.objects.InputFile;
import org.telegram.telegrambots.meta.api.objects.ReplyParameters;
import org.telegram.telegrambots.meta.api.objects.media.InputMediaPhoto;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.InlineKeyboardMarkup;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.buttons.InlineKeyboardButton;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.buttons.InlineKeyboardRow;

/**
 * One job's answer on Telegram. The status message is edited as the job moves, the latest text
 * winning and no faster than the chat's pace; the image is a photo answering the command (a
 * compressed preview plus the original as a file when the original breaks the photo rules), with
 * the buttons under it; then the status message goes. An error replaces the status text. Every send
 * goes through the chat's {@link Pacer}, so the last answer asked for is the last one shown.
 */
final class TelegramReply implements ChatReply {
  private static final Logger log = LoggerFactory.getLogger(TelegramReply.class);

  private final BotApi api;
  private final Pacer pacer;
  private final ReplyAddress address;
  private final AtomicReference<String> pending = new AtomicReference<>();
  private final AtomicBoolean flushing = new AtomicBoolean();
  private final AtomicBoolean finished = new AtomicBoolean();
  private volatile String shown = "";

  TelegramReply(BotApi api, Pacer pacer, ReplyAddress address) {
    this.api = api;
    this.pacer = pacer;
    this.address = address;
  }

  ReplyAddress address() {
    return address;
  }

  /** The language of the user who asked, kept in the address across restarts. */
  private Locale locale() {
    return address.locale();
  }

  @Override
  public void accepted(String jobId, GenerationRequest request) {
    status(Texts.working(request, locale()));
  }

  @Override
  public void queued(int position) {
    status(Texts.queued(position, locale()));
  }

  @Override
  public void progress(Progress progress) {
    status(Texts.progress(progress, locale()));
  }

  /**
   * Shows {@code text} on the status message when the chat's pace allows; a newer text replaces a
   * waiting one.
   */
  private void status(String text) {
    if (address.statusMessageId() == null || finished.get()) {
      return;
    }
    pending.set(text);
    if (flushing.compareAndSet(false, true)) {
      Thread.ofVirtual().name("telegram-status-" + address.chatId()).start(this::flush);
    }
  }

  private void flush() {
    do {
      try {
        // whether to edit is decided in the chat's turn, together with the edit: a final answer
        // asked for before that turn came is never overwritten by a status text
        AtomicReference<String> text = new AtomicReference<>();
        pacer.sendIf(
            () -> takePending(text),
            address.chatId(),
            address.group(),
            "editMessageText",
            () -> api.client().execute(editStatus(text.get())));
      } catch (RuntimeException e) {
        log.debug("telegram: status edit in chat {} failed: {}", address.chatId(), e.getMessage());
      } finally {
        flushing.set(false);
      }
    } while (pending.get() != null && !finished.get() && flushing.compareAndSet(false, true));
  }

  /**
   * Takes the waiting text into {@code into} if it is still to be shown: the job is not finished,
   * and it is new.
   */
  private boolean takePending(AtomicReference<String> into) {
    String text = pending.getAndSet(null);
    if (text == null || finished.get() || text.equals(shown)) {
      return false;
    }
    shown = text;
    into.set(text);
    return true;
  }

  private EditMessageText editStatus(String text) {
    return EditMessageText.builder()
        .chatId(address.chatId())
        .messageId(address.statusMessageId())
        .text(text)
        .build();
  }

  @Override
  public void image(ImageReply reply) {
    finished.set(true); // no status edit after this
    try {
      deliver(reply);
    } catch (BotApi.Failure e) {
      throw new DeliveryException("Telegram did not take the image: " + e.getMessage(), e);
    }
  }

  private void deliver(ImageReply reply) {
    GenerationResult r = reply.result();
    String name = "fluxbot-" + r.seed() + "." + r.type().extension();
    boolean fits = Photos.fits(r);
    Optional<byte[]> photo = fits ? Optional.of(r.image()) : Photos.preview(r.image());
    InlineKeyboardMarkup keyboard = keyboard(reply, locale());
    Integer answerTo = address.replyToMessageId();
    Message sent = null;
    if (photo.isPresent()) {
      String caption = Texts.caption(reply, !fits, locale());
      byte[] bytes = photo.get();
      String photoName = fits ? name : "fluxbot-" + r.seed() + "-preview.jpg";
      sent = sendPhoto(bytes, photoName, caption, keyboard, answerTo);
    }
    if (!fits) {
      Integer under = sent == null ? answerTo : sent.getMessageId();
      String caption =
          sent == null
              ? Texts.caption(reply, false, locale())
              : Texts.original(r.width(), r.height(), r.image().length, locale());
      sendDocument(r.image(), name, caption, under, sent == null ? keyboard : null);
    }
    finish();
  }

  /**
   * A group ({@code --n}): the images as one album (sendMediaGroup: 2 to 10 photos, each captioned
   * with its number and seed; an album takes no buttons), answering the command, then one message
   * under it with the prompt, the group's facts and its buttons. A group with only one image made
   * is one photo with those. An image that breaks the photo rules goes as its compressed preview.
   */
  @Override
  public void group(GroupReply group) {
    finished.set(true); // no status edit after this
    List<ImageReply> images = group.images();
    List<byte[]> photos = new ArrayList<>();
    for (ImageReply i : images) {
      GenerationResult r = i.result();
      photos.add(Photos.fits(r) ? r.image() : Photos.preview(r.image()).orElse(null));
    }
    if (photos.contains(null)) { // no photo form at all: one image at a time, as documents
      ChatReply.super.group(group);
      return;
    }
    try {
      InlineKeyboardMarkup keyboard = groupKeyboard(group, locale());
      String text = Texts.groupCaption(group, locale());
      if (images.size() == 1) {
        sendGroupPhoto(images.get(0), photos.get(0), text, keyboard);
      } else {
        List<Message> album = album(images, photos);
        sendButtons(text, album.get(0).getMessageId(), keyboard);
      }
    } catch (BotApi.Failure e) {
      throw new DeliveryException("Telegram did not take the images: " + e.getMessage(), e);
    }
    finish();
  }

  private List<Message> album(List<ImageReply> images, List<byte[]> photos) {
    List<InputMediaPhoto> media = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      GenerationResult r = images.get(i).result();
      InputMediaPhoto photo =
          new InputMediaPhoto(
              new ByteArrayInputStream(photos.get(i)), "fluxbot-" + r.seed() + ".jpg");
      photo.setCaption(Texts.albumItem(i + 1, r.seed(), locale()));
      media.add(photo);
    }
    return pacer.send(
        address.chatId(),
        address.group(),
        "sendMediaGroup",
        () ->
            api.client()
                .execute(
                    SendMediaGroup.builder()
                        .chatId(address.chatId())
                        .medias(media)
                        .replyParameters(replyTo(address.replyToMessageId()))
                        .build()));
  }

  private void sendButtons(String text, Integer under, InlineKeyboardMarkup keyboard) {
    pacer.send(
        address.chatId(),
        address.group(),
        "sendMessage",
        () ->
            api.client()
                .execute(
                    SendMessage.builder()
                        .chatId(address.chatId())
                        .text(Texts.cut(text, Texts.MAX_TEXT))
                        .replyMarkup(keyboard)
                        .replyParameters(replyTo(under))
                        .build()));
  }

  private void sendGroupPhoto(
      ImageReply image, byte[] photo, String text, InlineKeyboardMarkup keyboard) {
    String name = "fluxbot-" + image.result().seed() + ".jpg";
    sendPhoto(
        photo, name, Texts.cut(text, Texts.MAX_CAPTION), keyboard, address.replyToMessageId());
  }

  /** One sendPhoto with its caption and buttons, as a reply to {@code under} (if any). */
  private Message sendPhoto(
      byte[] bytes, String name, String caption, InlineKeyboardMarkup keyboard, Integer under) {
    return pacer.send(
        address.chatId(),
        address.group(),
        "sendPhoto",
        () ->
            api.client()
                .execute(
                    SendPhoto.builder()
                        .chatId(address.chatId())
                        .photo(new InputFile(new ByteArrayInputStream(bytes), name))
                        .caption(caption)
                        .replyMarkup(keyboard)
                        .replyParameters(replyTo(under))
                        .build()));
  }

  /** The group's buttons ({@link GroupButtons}), each carrying its image's job. */
  static InlineKeyboardMarkup groupKeyboard(GroupReply group, Locale locale) {
    List<InlineKeyboardRow> rows = new ArrayList<>();
    for (List<GroupButtons.Button> row : GroupButtons.rows(group, locale)) {
      rows.add(
          new InlineKeyboardRow(
              row.stream()
                  .map(
                      b ->
                          button(
                              b.label(), CallbackData.encode(b.ref().followUp(), b.ref().jobId())))
                  .toList()));
    }
    return new InlineKeyboardMarkup(rows);
  }

  /** Sends a file; one over Telegram's 50 MB gets a note instead. */
  void sendDocument(
      byte[] bytes, String name, String caption, Integer under, InlineKeyboardMarkup keyboard) {
    if (bytes.length > Photos.MAX_DOCUMENT_BYTES) {
      text(
          "⚠️ " + Messages.format(locale(), "telegram.original.too_large", Texts.mb(bytes.length)),
          under);
      return;
    }
    pacer.send(
        address.chatId(),
        address.group(),
        "sendDocument",
        () ->
            api.client()
                .execute(
                    SendDocument.builder()
                        .chatId(address.chatId())
                        .document(new InputFile(new ByteArrayInputStream(bytes), name))
                        .caption(Texts.cut(caption, Texts.MAX_CAPTION))
                        .replyMarkup(keyboard)
                        .replyParameters(replyTo(under))
                        .build()));
  }

  private Message text(String text, Integer under) {
    return pacer.send(
        address.chatId(),
        address.group(),
        "sendMessage",
        () ->
            api.client()
                .execute(
                    SendMessage.builder()
                        .chatId(address.chatId())
                        .text(Texts.cut(text, Texts.MAX_TEXT))
                        .replyParameters(replyTo(under))
                        .build()));
  }

  static ReplyParameters replyTo(Integer messageId) {
    return messageId == null
        ? null
        : ReplyParameters.builder().messageId(messageId).allowSendingWithoutReply(true).build();
  }

  static InlineKeyboardMarkup keyboard(ImageReply reply) {
    return keyboard(reply, Locale.ENGLISH);
  }

  /** The buttons under an image, labelled in {@code locale}'s language. */
  static InlineKeyboardMarkup keyboard(ImageReply reply, Locale locale) {
    List<InlineKeyboardButton> buttons = new ArrayList<>();
    for (ImageReply.FollowUp f : reply.actions()) {
      if (f != ImageReply.FollowUp.USE_AS_REFERENCE) {
        buttons.add(button(f.label(locale), CallbackData.encode(f, reply.jobId())));
      }
    }
    List<InlineKeyboardButton> second = new ArrayList<>();
    second.add(
        button(
            Messages.format(locale, "telegram.button.original_file"),
            CallbackData.encodeOriginal(reply.jobId())));
    if (reply.actions().contains(ImageReply.FollowUp.USE_AS_REFERENCE)) {
      second.add(
          button(
              ImageReply.FollowUp.USE_AS_REFERENCE.label(locale),
              CallbackData.encode(ImageReply.FollowUp.USE_AS_REFERENCE, reply.jobId())));
    }
    List<InlineKeyboardRow> rows = new ArrayList<>();
    if (!buttons.isEmpty()) {
      rows.add(new InlineKeyboardRow(buttons));
    }
    rows.add(new InlineKeyboardRow(second));
    return new InlineKeyboardMarkup(rows);
  }

  private static InlineKeyboardButton button(String text, String data) {
    return InlineKeyboardButton.builder().text(text).callbackData(data).build();
  }

  @Override
  public void failed(UserError error) {
    String text = Texts.error(error, locale());
    if (!finished.compareAndSet(false, true)) {
      return;
    }
    if (address.statusMessageId() != null) {
      try {
        pacer.send(
            address.chatId(),
            address.group(),
            "editMessageText",
            () -> api.client().execute(editStatus(text)));
        return;
      } catch (BotApi.Failure e) {
        log.debug("telegram: could not put the error on the status message: {}", e.getMessage());
      }
    }
    text(text, address.replyToMessageId());
  }

  /** The status message goes, after any edit of it already under way. */
  private void finish() {
    if (address.statusMessageId() != null) {
      pacer.inTurn(
          address.chatId(),
          () -> {
            try {
              api.call(
                  "deleteMessage",
                  () ->
                      api.client()
                          .execute(
                              DeleteMessage.builder()
                                  .chatId(address.chatId())
                                  .messageId(address.statusMessageId())
                                  .build()));
            } catch (BotApi.Failure e) {
              log.debug("telegram: could not delete the status message: {}", e.getMessage());
            }
          });
    }
  }
}
