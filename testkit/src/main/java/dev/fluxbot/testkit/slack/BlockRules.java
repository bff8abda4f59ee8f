package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.testkit.slack.WebApi.Refusal;
import java.util.HashSet;
import java.util.Set;

/** Block Kit as Slack checks a message's {@code blocks} parameter. */
final class BlockRules {
  private BlockRules() {}

  /** The block types a message may carry. */
  private static final Set<String> MESSAGE_BLOCKS =
      Set.of(
          "section",
          "actions",
          "context",
          "divider",
          "header",
          "image",
          "rich_text",
          "file",
          "video",
          "markdown");

  /**
   * Blocks as Slack checks them ({@code invalid_blocks} otherwise): at most 50, of a type a message
   * may carry; block ids unique, at most 255 characters; a section's text at most 3,000 characters
   * and at most 10 fields; an actions block 1 to 25 elements; action ids unique in the message, at
   * most 255 characters; a button's text plain, at most 75 characters, its value at most 2,000; a
   * header at most 150 characters; a context block at most 10 elements.
   */
  static JsonNode checked(ObjectNode p) {
    if (!p.hasNonNull("blocks")) {
      return MissingNode.getInstance();
    }
    JsonNode blocks = WebMethods.json(p, "blocks");
    if (!blocks.isArray() || blocks.size() > 50) {
      throw new Refusal("invalid_blocks");
    }
    Set<String> blockIds = new HashSet<>();
    Set<String> actionIds = new HashSet<>();
    for (JsonNode b : blocks) {
      String type = b.path("type").asText("");
      String blockId = b.path("block_id").asText("");
      if (!MESSAGE_BLOCKS.contains(type)
          || blockId.length() > 255
          || (!blockId.isEmpty() && !blockIds.add(blockId))) {
        throw new Refusal("invalid_blocks");
      }
      boolean ok =
          switch (type) {
            case "section" ->
                (b.has("text") || b.has("fields"))
                    && b.path("text").path("text").asText("").length() <= 3000
                    && b.path("fields").size() <= 10;
            case "actions" ->
                !b.path("elements").isEmpty()
                    && b.path("elements").size() <= 25
                    && elementsOk(b.path("elements"), actionIds);
            case "header" ->
                "plain_text".equals(b.path("text").path("type").asText())
                    && b.path("text").path("text").asText("").length() <= 150;
            case "context" -> !b.path("elements").isEmpty() && b.path("elements").size() <= 10;
            default -> true;
          };
      if (!ok) {
        throw new Refusal("invalid_blocks");
      }
    }
    return blocks;
  }

  private static boolean elementsOk(JsonNode elements, Set<String> actionIds) {
    for (JsonNode e : elements) {
      String id = e.path("action_id").asText("");
      if (id.length() > 255 || (!id.isEmpty() && !actionIds.add(id))) {
        return false;
      }
      if ("button".equals(e.path("type").asText())
          && (!"plain_text".equals(e.path("text").path("type").asText())
              || e.path("text").path("text").asText("").isEmpty()
              || e.path("text").path("text").asText().length() > 75
              || e.path("value").asText("").length() > 2000)) {
        return false;
      }
    }
    return true;
  }
}
