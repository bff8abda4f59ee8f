package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * Discord's "Invalid Form Body" (code 50035): the problems nested by the path of the field, {@code
 * {"errors": {"components": {"0": {"components": {"_errors": [{"code", "message"}]}}}}}}.
 */
final class FormErrors {
  private final ObjectNode errors = Json.object();
  private int count;

  void add(List<String> path, String code, String message) {
    ObjectNode node = errors;
    for (String key : path) node = node.has(key) ? (ObjectNode) node.get(key) : node.putObject(key);
    (node.has("_errors") ? (ArrayNode) node.get("_errors") : node.putArray("_errors"))
        .addObject()
        .put("code", code)
        .put("message", message);
    count++;
  }

  boolean isEmpty() {
    return count == 0;
  }

  Reply reply() {
    ObjectNode body = Json.error("Invalid Form Body", 50035);
    body.set("errors", errors);
    return Reply.json(400, body);
  }
}
