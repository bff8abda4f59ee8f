package dev.fluxbot.testkit.telegram;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.Image;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/** The Bot API's JSON objects as the fake writes them. */
final class Shapes {
  static final JsonNodeFactory F = JsonNodeFactory.instance;
  static final int THUMB_SIDE = 90;

  private Shapes() {}

  static ObjectNode user(long id, String firstName, String username, boolean bot) {
    ObjectNode u = F.objectNode().put("id", id).put("is_bot", bot).put("first_name", firstName);
    if (username != null) {
      u.put("username", username);
    }
    if (!bot) {
      u.put("language_code", "en");
    }
    return u;
  }

  static ObjectNode chat(TelegramContext where, String userFirstName, String username) {
    ObjectNode c = F.objectNode().put("id", where.chatId()).put("type", where.chatType());
    if (where.isPrivate()) {
      c.put("first_name", userFirstName);
      if (username != null) {
        c.put("username", username);
      }
    } else {
      c.put("title", "Group " + where.chatId());
    }
    return c;
  }

  /** A bot_command entity for a leading {@code /command[@bot]}; none when the text has none. */
  static ArrayNode commandEntities(String text) {
    ArrayNode entities = F.arrayNode();
    if (text != null && text.startsWith("/") && text.length() > 1) {
      int end = 1;
      while (end < text.length() && !Character.isWhitespace(text.charAt(end))) {
        end++;
      }
      entities.addObject().put("offset", 0).put("length", end).put("type", "bot_command");
    }
    return entities;
  }

  /** Width and height of an image, or 0×0 when it does not decode. */
  static int[] dimensions(byte[] bytes) {
    try {
      BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
      return image == null ? new int[] {0, 0} : new int[] {image.getWidth(), image.getHeight()};
    } catch (IOException e) {
      return new int[] {0, 0};
    }
  }

  /**
   * A small JPEG of the image (Telegram's smallest photo size), or null when it does not decode.
   */
  static byte[] thumbnail(byte[] bytes) {
    try {
      BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
      if (image == null) {
        return null;
      }
      double scale =
          Math.min(1.0, (double) THUMB_SIDE / Math.max(image.getWidth(), image.getHeight()));
      int w = Math.max(1, (int) Math.round(image.getWidth() * scale));
      int h = Math.max(1, (int) Math.round(image.getHeight() * scale));
      BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      out.createGraphics().drawImage(image.getScaledInstance(w, h, Image.SCALE_FAST), 0, 0, null);
      ByteArrayOutputStream buffer = new ByteArrayOutputStream();
      ImageIO.write(out, "jpeg", buffer);
      return buffer.toByteArray();
    } catch (IOException e) {
      return null;
    }
  }
}
