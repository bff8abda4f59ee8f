package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A modal submission's {@code components}, in the shape of the modal the bot showed: a label (18)
 * wrapping each text input (4), or an action row (1) for older modals, with the user's values.
 */
final class ModalAnswers {
  private ModalAnswers() {}

  /**
   * Fills the text inputs of a shown modal; every field must be one of them, every required input
   * answered.
   */
  static ArrayNode fill(JsonNode shown, Map<String, String> fields) {
    Map<String, String> left = new HashMap<>(fields);
    List<String> inputs = new ArrayList<>();
    ArrayNode result = Json.array();
    for (JsonNode top : shown) {
      int type = top.path("type").asInt();
      if (type == 18 && top.path("component").path("type").asInt() == 4) {
        ObjectNode label = result.addObject().put("type", 18).put("id", top.path("id").asInt());
        label.set("component", answer(top.get("component"), left, inputs));
      } else if (type == 1) {
        ObjectNode row = result.addObject().put("type", 1).put("id", top.path("id").asInt());
        ArrayNode items = row.putArray("components");
        top.path("components").forEach(c -> items.add(answer(c, left, inputs)));
      } else if (type == 10) {
        result.addObject().put("type", 10).put("id", top.path("id").asInt());
      }
    }
    if (!left.isEmpty()) {
      throw new IllegalArgumentException(
          "The modal has no text input " + left.keySet() + "; its inputs are " + inputs);
    }
    return result;
  }

  private static ObjectNode answer(JsonNode input, Map<String, String> left, List<String> inputs) {
    String customId = input.path("custom_id").asText();
    inputs.add(customId);
    String value = left.remove(customId);
    if (value == null && input.path("required").asBoolean(true)) {
      throw new IllegalArgumentException(
          "Text input \""
              + customId
              + "\" of the modal is required; Discord's client"
              + " would not submit it empty");
    }
    return Json.object()
        .put("type", input.path("type").asInt(4))
        .put("id", input.path("id").asInt())
        .put("custom_id", customId)
        .put("value", value == null ? "" : value);
  }

  /** A submission for a modal the fake never saw: a label around each text input. */
  static ArrayNode labels(Map<String, String> fields) {
    ArrayNode result = Json.array();
    int id = 1;
    for (Map.Entry<String, String> field : fields.entrySet()) {
      ObjectNode label = result.addObject().put("type", 18).put("id", id++);
      label
          .putObject("component")
          .put("type", 4)
          .put("id", id++)
          .put("custom_id", field.getKey())
          .put("value", field.getValue());
    }
    return result;
  }
}
