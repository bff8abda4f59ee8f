package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Discord's limits on a message body, checked as Discord answers them (400, code 50035 or 50006).
 */
final class MessageRules {
  static final int IS_COMPONENTS_V2 = 1 << 15;
  private static final Set<Integer> SELECTS = Set.of(3, 5, 6, 7, 8);

  private MessageRules() {}

  /**
   * @param newFiles how many files the request uploads
   * @param creating whether this creates a message (an edit may leave everything out)
   */
  static Optional<Reply> check(JsonNode payload, int newFiles, boolean creating) {
    FormErrors errors = new FormErrors();
    maxText(payload.path("content"), 2000, List.of("content"), errors);
    embeds(payload.path("embeds"), errors);
    if ((payload.path("flags").asInt() & IS_COMPONENTS_V2) == 0)
      rows(payload.path("components"), errors);
    uniqueCustomIds(payload.path("components"), errors);
    if (payload.path("attachments").size() > 10 || newFiles > 10) {
      errors.add(List.of("attachments"), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.");
    }
    if (!errors.isEmpty()) return Optional.of(errors.reply());
    if (creating && isEmpty(payload, newFiles))
      return Optional.of(Reply.error(400, "Cannot send an empty message", 50006));
    return Optional.empty();
  }

  private static boolean isEmpty(JsonNode payload, int newFiles) {
    return payload.path("content").asText("").isEmpty()
        && payload.path("embeds").isEmpty()
        && payload.path("components").isEmpty()
        && payload.path("sticker_ids").isEmpty()
        && newFiles == 0
        && !payload.has("poll");
  }

  private static void embeds(JsonNode embeds, FormErrors errors) {
    if (embeds.size() > 10)
      errors.add(List.of("embeds"), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.");
    for (int i = 0; i < embeds.size(); i++) {
      JsonNode embed = embeds.get(i);
      List<String> at = List.of("embeds", Integer.toString(i));
      maxText(embed.path("title"), 256, plus(at, "title"), errors);
      maxText(embed.path("description"), 4096, plus(at, "description"), errors);
      maxText(embed.path("footer").path("text"), 2048, plus(plus(at, "footer"), "text"), errors);
      if (embed.path("fields").size() > 25) {
        errors.add(plus(at, "fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
      }
      if (embedLength(embed) > 6000) {
        errors.add(at, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000");
      }
    }
  }

  private static int embedLength(JsonNode embed) {
    int length =
        embed.path("title").asText("").length()
            + embed.path("description").asText("").length()
            + embed.path("footer").path("text").asText("").length()
            + embed.path("author").path("name").asText("").length();
    for (JsonNode field : embed.path("fields")) {
      length += field.path("name").asText("").length() + field.path("value").asText("").length();
    }
    return length;
  }

  private static void rows(JsonNode rows, FormErrors errors) {
    if (rows.size() > 5)
      errors.add(List.of("components"), "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
    for (int i = 0; i < rows.size(); i++) {
      List<String> at = List.of("components", Integer.toString(i));
      JsonNode row = rows.get(i);
      if (row.path("type").asInt() != 1) {
        errors.add(
            plus(at, "type"), "UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (1,).");
        continue;
      }
      row(row.path("components"), plus(at, "components"), errors);
    }
  }

  private static void row(JsonNode items, List<String> at, FormErrors errors) {
    if (items.isEmpty() || items.size() > 5) {
      errors.add(at, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.");
    }
    boolean hasSelect = false;
    for (int i = 0; i < items.size(); i++) {
      JsonNode item = items.get(i);
      hasSelect |= SELECTS.contains(item.path("type").asInt());
      if (item.path("type").asInt() == 2) button(item, plus(at, Integer.toString(i)), errors);
    }
    if (hasSelect && items.size() > 1) {
      errors.add(
          at,
          "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
          "The specified component exceeds the maximum width");
    }
  }

  private static void button(JsonNode button, List<String> at, FormErrors errors) {
    int style = button.path("style").asInt();
    if (style < 1 || style > 6) {
      errors.add(
          plus(at, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}.");
    }
    maxText(button.path("label"), 80, plus(at, "label"), errors);
    if (style == 5) {
      if (!button.hasNonNull("url"))
        errors.add(plus(at, "url"), "BASE_TYPE_REQUIRED", "This field is required");
      maxText(button.path("url"), 512, plus(at, "url"), errors);
      if (button.hasNonNull("url")
          && !button.get("url").asText().matches("(?i)(https?|discord)://.+")) {
        errors.add(plus(at, "url"), "URL_TYPE_INVALID_URL", "Not a well formed URL.");
      }
      if (button.hasNonNull("custom_id")) {
        errors.add(
            plus(at, "custom_id"),
            "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
            "A link button cannot have a custom id");
      }
    } else if (style != 6) {
      if (!button.hasNonNull("custom_id")) {
        errors.add(plus(at, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required");
      }
      maxText(button.path("custom_id"), 100, plus(at, "custom_id"), errors);
    }
  }

  private static void uniqueCustomIds(JsonNode components, FormErrors errors) {
    List<String> ids = customIds(components);
    Set<String> seen = new HashSet<>();
    for (String id : ids) {
      if (!seen.add(id)) {
        errors.add(
            List.of("components"),
            "COMPONENT_CUSTOM_ID_DUPLICATED",
            "Component custom id cannot be duplicated");
        return;
      }
    }
  }

  /** Every {@code custom_id} in a component tree, depth first. */
  static List<String> customIds(JsonNode components) {
    List<String> ids = new ArrayList<>();
    collect(components, ids);
    return ids;
  }

  private static void collect(JsonNode node, List<String> ids) {
    if (node.isArray()) node.forEach(child -> collect(child, ids));
    if (!node.isObject()) return;
    if (node.hasNonNull("custom_id")) ids.add(node.get("custom_id").asText());
    collect(node.path("components"), ids);
    collect(node.path("component"), ids);
    collect(node.path("accessory"), ids);
  }

  static void maxText(JsonNode value, int max, List<String> at, FormErrors errors) {
    if (value.isTextual() && value.asText().length() > max) {
      errors.add(at, "BASE_TYPE_MAX_LENGTH", "Must be " + max + " or fewer in length.");
    }
  }

  static List<String> plus(List<String> path, String key) {
    List<String> more = new ArrayList<>(path);
    more.add(key);
    return more;
  }
}
