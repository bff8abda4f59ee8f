package dev.fluxbot.testkit.telegram;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The Bot API methods that change or read the fake's world; each runs with the engine's lock held.
 */
final class BotMethods {
  static final int MAX_TEXT = 4096;
  static final int MAX_CAPTION = 1024;
  static final int MAX_CALLBACK_DATA_BYTES = 64;

  private final TelegramEngine engine;
  private final FormData form;

  BotMethods(TelegramEngine engine, FormData form) {
    this.engine = engine;
    this.form = form;
  }

  private String required(String name) {
    String value = form.params().get(name);
    if (value == null || value.isEmpty()) {
      throw new BadRequest(name + " is empty");
    }
    return value;
  }

  private long chatId() {
    try {
      return Long.parseLong(required("chat_id"));
    } catch (NumberFormatException e) {
      throw new BadRequest("chat not found");
    }
  }

  private long messageId() {
    try {
      return Long.parseLong(required("message_id"));
    } catch (NumberFormatException e) {
      throw new BadRequest("message identifier is not specified");
    }
  }

  private Long replyTo() {
    String direct = form.params().get("reply_to_message_id");
    if (direct != null) {
      return Long.parseLong(direct);
    }
    JsonNode parameters = json("reply_parameters");
    return parameters.has("message_id") ? parameters.get("message_id").asLong() : null;
  }

  private JsonNode json(String name) {
    String value = form.params().get(name);
    if (value == null) {
      return TelegramEngine.JSON.missingNode();
    }
    try {
      return TelegramEngine.JSON.readTree(value);
    } catch (IOException e) {
      throw new BadRequest("can't parse " + name + " JSON object");
    }
  }

  /** Checks and attaches {@code reply_markup}: inline buttons' callback data at most 64 bytes. */
  private void markup(ObjectNode message) {
    JsonNode markup = json("reply_markup");
    if (markup.isMissingNode()) {
      return;
    }
    for (JsonNode data : markup.path("inline_keyboard").findValues("callback_data")) {
      int bytes = data.asText().getBytes(StandardCharsets.UTF_8).length;
      if (bytes < 1 || bytes > MAX_CALLBACK_DATA_BYTES) {
        throw new BadRequest("BUTTON_DATA_INVALID");
      }
    }
    if (markup.has("inline_keyboard")) {
      message.set("reply_markup", markup);
    }
  }

  private static void text(ObjectNode message, String text) {
    if (text.isBlank()) {
      throw new BadRequest("message text is empty");
    }
    if (text.length() > MAX_TEXT) {
      throw new BadRequest("message is too long");
    }
    message.put("text", text);
  }

  private void caption(ObjectNode message) {
    String caption = form.params().get("caption");
    if (caption == null) {
      return;
    }
    if (caption.length() > MAX_CAPTION) {
      throw new BadRequest("message caption is too long");
    }
    message.put("caption", caption);
  }

  /**
   * Attaches {@code entities}: each within the text (offsets in UTF-16 code units, as Telegram
   * counts), a {@code text_link} with an http(s) or tg URL.
   */
  private void entities(ObjectNode message) {
    JsonNode entities = json("entities");
    if (entities.isMissingNode()) {
      return;
    }
    int length = message.path("text").asText().length();
    for (JsonNode e : entities) {
      int offset = e.path("offset").asInt(-1);
      int size = e.path("length").asInt(0);
      if (!e.hasNonNull("type") || offset < 0 || size < 1 || offset + size > length) {
        throw new BadRequest(
            "can't parse entities: entity "
                + e
                + " is outside the text of "
                + length
                + " characters");
      }
      if (e.path("type").asText().equals("text_link")
          && !e.path("url").asText("").matches("(https?|tg)://\\S+")) {
        throw new BadRequest(
            "can't parse entities: wrong URL in a text_link entity: " + e.path("url").asText(""));
      }
    }
    message.set("entities", entities);
  }

  ObjectNode sendMessage() {
    ObjectNode m = engine.botMessage(chatId());
    text(m, required("text"));
    entities(m);
    markup(m);
    engine.storeBotMessage(m, replyTo());
    return m.deepCopy();
  }

  ObjectNode editMessageText() {
    ObjectNode m = engine.existingMessage(chatId(), messageId(), "message to edit not found");
    if (!m.has("text")) {
      throw new BadRequest("there is no text in the message to edit");
    }
    ObjectNode before = m.deepCopy();
    text(m, required("text"));
    m.remove("reply_markup");
    markup(m);
    if (m.equals(before)) {
      throw new BadRequest(
          "message is not modified: specified new message content and reply markup are exactly the same"
              + " as a current content and reply markup of the message");
    }
    m.put("edit_date", engine.config().clock().instant().getEpochSecond());
    return m.deepCopy();
  }

  ObjectNode editMessageReplyMarkup() {
    ObjectNode m = engine.existingMessage(chatId(), messageId(), "message to edit not found");
    m.remove("reply_markup");
    markup(m);
    return m.deepCopy();
  }

  JsonNode deleteMessage() {
    engine.deleteStored(chatId(), messageId());
    return TelegramEngine.JSON.getNodeFactory().booleanNode(true);
  }

  /**
   * The bytes of an input file: an uploaded part ({@code attach://name} or the field's own name) or
   * a known file id.
   */
  private byte[] inputFile(String field, String value) {
    var part = uploaded(field, value);
    if (part.isPresent()) {
      return part.get().bytes();
    }
    if (value == null) {
      throw new BadRequest("there is no " + field + " in the request");
    }
    return engine
        .fileById(value)
        .map(FileStore.StoredFile::bytes)
        .orElseThrow(() -> new BadRequest("wrong file identifier/HTTP URL specified"));
  }

  private java.util.Optional<TelegramCall.Part> uploaded(String field, String value) {
    String partName =
        value != null && value.startsWith("attach://")
            ? value.substring("attach://".length())
            : field;
    return form.parts().stream().filter(p -> p.name().equals(partName)).findFirst();
  }

  private static void checkPhoto(byte[] bytes) {
    if (bytes.length > TelegramEngine.MAX_PHOTO_BYTES) {
      throw new TooLarge();
    }
    int[] d = Shapes.dimensions(bytes);
    if (d[0] == 0) {
      throw new BadRequest("IMAGE_PROCESS_FAILED");
    }
    long w = d[0];
    long h = d[1];
    if (w + h > 10_000 || Math.max(w, h) > 20 * Math.min(w, h)) {
      throw new BadRequest("PHOTO_INVALID_DIMENSIONS");
    }
  }

  /** 413, as Telegram's front answers an upload over the method's limit. */
  static final class TooLarge extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TooLarge() {
      super("Request Entity Too Large", null, false, false);
    }
  }

  Answer sendPhoto() {
    try {
      byte[] bytes = inputFile("photo", form.params().get("photo"));
      checkPhoto(bytes);
      ObjectNode m = engine.botMessage(chatId());
      m.set("photo", engine.storePhoto(bytes));
      caption(m);
      markup(m);
      engine.storeBotMessage(m, replyTo());
      return Answer.ok(m.deepCopy());
    } catch (TooLarge e) {
      return Answer.fail(413, "Request Entity Too Large");
    }
  }

  Answer sendDocument() {
    String value = form.params().get("document");
    byte[] bytes = inputFile("document", value);
    if (bytes.length > TelegramEngine.MAX_DOCUMENT_BYTES) {
      return Answer.fail(413, "Request Entity Too Large");
    }
    var part = uploaded("document", value);
    String name = part.map(TelegramCall.Part::filename).orElse("document");
    String type = part.map(TelegramCall.Part::contentType).orElse(null);
    ObjectNode m = engine.botMessage(chatId());
    m.set("document", engine.storeDocument(bytes, name == null ? "document" : name, type));
    caption(m);
    markup(m);
    engine.storeBotMessage(m, replyTo());
    return Answer.ok(m.deepCopy());
  }

  Answer sendMediaGroup() {
    JsonNode media = json("media");
    if (!media.isArray() || media.size() < 2 || media.size() > 10) {
      throw new BadRequest(
          "wrong number of media specified: must be 2-10 items; got "
              + (media.isArray() ? media.size() : 0));
    }
    if (form.params().containsKey("reply_markup")) {
      // the Bot API's sendMediaGroup has no reply_markup: an album takes no inline keyboard
      throw new BadRequest("sendMediaGroup takes no reply_markup (an album has no buttons)");
    }
    long chatId = chatId();
    if (!engine.knowsChat(chatId)) {
      throw new BadRequest("chat not found");
    }
    String group = Long.toString(System.identityHashCode(form) & 0x7fffffffL);
    ArrayNode sent = TelegramEngine.JSON.createArrayNode();
    try {
      for (JsonNode item : media) {
        String type = item.path("type").asText();
        byte[] bytes = inputFile(type, item.path("media").asText(null));
        ObjectNode m = engine.botMessage(chatId);
        if (type.equals("photo")) {
          checkPhoto(bytes);
          m.set("photo", engine.storePhoto(bytes));
        } else if (type.equals("document")) {
          m.set("document", engine.storeDocument(bytes, "document", null));
        } else {
          throw new BadRequest("unsupported media type " + type + " in the fake");
        }
        if (item.has("caption")) {
          m.put("caption", item.get("caption").asText());
        }
        m.put("media_group_id", group);
        engine.storeBotMessage(m, replyTo());
        sent.add(m.deepCopy());
      }
    } catch (TooLarge e) {
      return Answer.fail(413, "Request Entity Too Large");
    }
    return Answer.ok(sent);
  }

  JsonNode answerCallbackQuery() {
    String text = form.params().get("text");
    if (text != null && text.length() > 200) {
      throw new BadRequest("MESSAGE_TOO_LONG");
    }
    return TelegramEngine.JSON
        .getNodeFactory()
        .booleanNode(engine.answerQuery(required("callback_query_id")));
  }

  ObjectNode getFile() {
    FileStore.StoredFile f =
        engine.fileById(required("file_id")).orElseThrow(() -> new BadRequest("invalid file_id"));
    if (f.bytes().length > TelegramEngine.MAX_DOWNLOAD_BYTES) {
      throw new BadRequest("file is too big");
    }
    return TelegramEngine.JSON
        .createObjectNode()
        .put("file_id", f.fileId())
        .put("file_unique_id", f.uniqueId())
        .put("file_size", f.bytes().length)
        .put("file_path", f.path());
  }

  ObjectNode getChatMember() {
    long chatId = chatId();
    long userId;
    try {
      userId = Long.parseLong(required("user_id"));
    } catch (NumberFormatException e) {
      throw new BadRequest("invalid user_id specified");
    }
    if (!engine.knowsChat(chatId)) {
      throw new BadRequest("chat not found");
    }
    String status = engine.memberStatus(chatId, userId);
    ObjectNode member = TelegramEngine.JSON.createObjectNode().put("status", status);
    member.set("user", engine.user(userId));
    switch (status) {
      case "creator" -> member.put("is_anonymous", false);
      case "administrator" -> {
        member.put("can_be_edited", false).put("is_anonymous", false);
        for (String right :
            new String[] {
              "can_manage_chat",
              "can_delete_messages",
              "can_manage_video_chats",
              "can_restrict_members",
              "can_promote_members",
              "can_change_info",
              "can_invite_users",
              "can_post_stories",
              "can_edit_stories",
              "can_delete_stories",
              "can_pin_messages",
              "can_manage_topics"
            }) {
          member.put(right, true);
        }
      }
      default -> {}
    }
    return member;
  }
}
