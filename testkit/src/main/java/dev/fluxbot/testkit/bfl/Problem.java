package dev.fluxbot.testkit.bfl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One entry of FastAPI's 422 body: {@code {"type", "loc", "msg", "input"?}}.
 *
 * @param input the offending value, echoed like FastAPI does; null leaves it out
 */
record Problem(List<Object> loc, String msg, String type, JsonNode input) {
  Problem {
    loc = List.copyOf(loc);
  }

  static List<Object> at(List<Object> loc, Object next) {
    List<Object> longer = new ArrayList<>(loc);
    longer.add(next);
    return longer;
  }

  /** The top-level body field the problem is about, or "" for the body as a whole. */
  String field() {
    return loc.size() >= 2 && "body".equals(loc.get(0)) ? String.valueOf(loc.get(1)) : "";
  }

  ObjectNode toJson() {
    ObjectNode json = Json.object().put("type", type);
    ArrayNode where = json.putArray("loc");
    for (Object part : loc) {
      if (part instanceof Integer i) where.add(i);
      else if (part instanceof Long l) where.add(l);
      else where.add(String.valueOf(part));
    }
    json.put("msg", msg);
    if (input != null) json.set("input", input);
    return json;
  }

  static ObjectNode body(List<Problem> problems) {
    ObjectNode body = Json.object();
    ArrayNode detail = body.putArray("detail");
    problems.forEach(p -> detail.add(p.toJson()));
    return body;
  }
}
