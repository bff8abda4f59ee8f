package dev.fluxbot.testkit.telegram;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** A Bot API answer: its HTTP status and Telegram's JSON body ({@code {"ok": …}}). */
record Answer(int status, ObjectNode body) {
  static Answer ok(JsonNode result) {
    ObjectNode body = Shapes.F.objectNode().put("ok", true);
    body.set("result", result);
    return new Answer(200, body);
  }

  static Answer fail(int status, String description) {
    return new Answer(status, error(status, description, null));
  }

  /** Telegram's error body, with {@code parameters.retry_after} when there is one. */
  static ObjectNode error(int status, String description, Integer retryAfter) {
    ObjectNode e =
        Shapes.F.objectNode()
            .put("ok", false)
            .put("error_code", status)
            .put("description", description);
    if (retryAfter != null) {
      e.putObject("parameters").put("retry_after", retryAfter);
    }
    return e;
  }
}
