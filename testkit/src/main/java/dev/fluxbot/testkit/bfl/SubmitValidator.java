package dev.fluxbot.testkit.bfl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** Checks a submit body: first the endpoint's schema, then {@link SubmitRules}. */
final class SubmitValidator {
  private final SchemaChecker checker = SchemaChecker.forRequests(OpenApi.DOCUMENT);

  List<Problem> validate(Endpoint endpoint, JsonNode body) {
    if (body.isMissingNode())
      return List.of(new Problem(List.of("body"), "Field required", "missing", null));
    List<Problem> problems =
        new ArrayList<>(
            checker.check(
                OpenApi.requestSchema(endpoint.path()), withoutZeroSides(body), List.of("body")));
    if (body.isObject()) {
      Set<String> faulty = problems.stream().map(Problem::field).collect(Collectors.toSet());
      problems.addAll(SubmitRules.check(body, faulty));
    }
    return problems;
  }

  /**
   * The schema says width and height are at least 64 yet defaults them to 0, and bfl-api.md says 0
   * lets the model choose: an explicit 0 is accepted, so hide it from the schema check.
   */
  private static JsonNode withoutZeroSides(JsonNode body) {
    if (!body.isObject()) return body;
    ObjectNode copy = ((ObjectNode) body).deepCopy();
    for (String side : List.of("width", "height")) {
      JsonNode v = copy.get(side);
      if (v != null && v.isIntegralNumber() && v.longValue() == 0) copy.remove(side);
    }
    return copy;
  }
}
