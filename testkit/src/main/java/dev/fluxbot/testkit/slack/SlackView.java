package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/** A modal the bot opened with {@code views.open}, as the fake stored it (with its {@code id}). */
public record SlackView(String id, String triggerId, String user, JsonNode view) {
  public SlackView {
    Objects.requireNonNull(id, "id");
    view = view.deepCopy();
  }

  @Override
  public JsonNode view() {
    return view.deepCopy();
  }

  public String callbackId() {
    return view.path("callback_id").asText();
  }

  public String privateMetadata() {
    return view.path("private_metadata").asText();
  }

  /** The initial value of the input whose element has this {@code action_id}, or null. */
  public String initialValue(String actionId) {
    for (JsonNode block : view.path("blocks")) {
      JsonNode element = block.path("element");
      if (actionId.equals(element.path("action_id").asText())) {
        return element.hasNonNull("initial_value") ? element.path("initial_value").asText() : null;
      }
    }
    return null;
  }
}
