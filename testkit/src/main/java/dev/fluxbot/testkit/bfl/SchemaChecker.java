package dev.fluxbot.testkit.bfl;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a JSON value against a schema of the OpenAPI document, reporting problems the way FastAPI
 * (pydantic 2) words them. Only the keywords the document uses are supported; any other keyword
 * fails loudly, so a newer document cannot be half-checked in silence.
 *
 * <p>In {@linkplain #forRequests requests}, unlike plain JSON Schema, an object schema without
 * {@code additionalProperties} forbids fields it does not list: BFL rejects them, and so must a
 * fake that guards a client. {@linkplain #forResponses Responses} may carry more than documented.
 */
final class SchemaChecker {
  private static final Set<String> KEYWORDS =
      Set.of(
          "$ref",
          "anyOf",
          "type",
          "enum",
          "minimum",
          "maximum",
          "multipleOf",
          "minLength",
          "maxLength",
          "format",
          "properties",
          "required",
          "additionalProperties",
          "items");
  private static final Set<String> ANNOTATIONS =
      Set.of("title", "description", "default", "example");

  private final JsonNode document;
  private final boolean forbidUnlisted;

  private SchemaChecker(JsonNode document, boolean forbidUnlisted) {
    this.document = document;
    this.forbidUnlisted = forbidUnlisted;
  }

  static SchemaChecker forRequests(JsonNode document) {
    return new SchemaChecker(document, true);
  }

  static SchemaChecker forResponses(JsonNode document) {
    return new SchemaChecker(document, false);
  }

  /** All problems of {@code value}, each located below {@code loc}. */
  List<Problem> check(JsonNode schema, JsonNode value, List<Object> loc) {
    List<Problem> problems = new ArrayList<>();
    check(schema, value, loc, problems);
    return problems;
  }

  private void check(JsonNode schema, JsonNode value, List<Object> loc, List<Problem> out) {
    JsonNode s = resolve(schema);
    requireKnownKeywords(s);
    if (s.has("anyOf") && !checkAnyOf(s.get("anyOf"), value, loc, out)) return;
    if (s.has("type") && !hasType(s.get("type").asText(), value)) {
      out.add(typeProblem(s.get("type").asText(), value, loc));
      return;
    }
    checkEnum(s, value, loc, out);
    if (value.isNumber()) checkNumber(s, value, loc, out);
    if (value.isTextual()) checkString(s, value, loc, out);
    if (value.isObject() && isObjectSchema(s)) checkObject(s, value, loc, out);
    if (value.isArray() && s.has("items")) {
      for (int i = 0; i < value.size(); i++)
        check(s.get("items"), value.get(i), Problem.at(loc, i), out);
    }
  }

  private JsonNode resolve(JsonNode schema) {
    JsonNode s = schema;
    for (int hops = 0; s.has("$ref"); hops++) {
      String ref = s.get("$ref").asText();
      if (!ref.startsWith("#/") || hops > 16)
        throw new IllegalStateException("Unsupported $ref: " + ref);
      s = document.at(ref.substring(1));
      if (s.isMissingNode()) throw new IllegalStateException("Unresolvable $ref: " + ref);
    }
    return s;
  }

  private static void requireKnownKeywords(JsonNode s) {
    for (Map.Entry<String, JsonNode> entry : s.properties()) {
      String key = entry.getKey();
      if (!KEYWORDS.contains(key) && !ANNOTATIONS.contains(key)) {
        throw new IllegalStateException(
            "SchemaChecker does not support the keyword \"" + key + "\" in " + s);
      }
    }
  }

  /** Whether some branch accepts the value; if none does, reports the closest branch's problems. */
  private boolean checkAnyOf(
      JsonNode branches, JsonNode value, List<Object> loc, List<Problem> out) {
    List<Problem> closest = null;
    int closestRank = -1;
    for (JsonNode branch : branches) {
      List<Problem> problems = check(branch, value, loc);
      if (problems.isEmpty()) return true;
      int rank = closeness(resolve(branch), value);
      if (rank > closestRank) {
        closest = problems;
        closestRank = rank;
      }
    }
    out.addAll(closest == null ? List.of() : closest);
    return false;
  }

  /**
   * 2: the branch takes values of this kind (so its constraints failed); 1: another kind; 0: null.
   */
  private static int closeness(JsonNode branch, JsonNode value) {
    String type = branch.path("type").asText("");
    if (type.equals("null")) return 0;
    return !type.isEmpty() && hasType(type, value) ? 2 : 1;
  }

  private static boolean hasType(String type, JsonNode v) {
    return switch (type) {
      case "string" -> v.isTextual();
      case "integer" -> v.isIntegralNumber();
      case "number" -> v.isNumber();
      case "boolean" -> v.isBoolean();
      case "null" -> v.isNull();
      case "object" -> v.isObject();
      case "array" -> v.isArray();
      default ->
          throw new IllegalStateException(
              "SchemaChecker does not support the type \"" + type + "\"");
    };
  }

  private static Problem typeProblem(String type, JsonNode v, List<Object> loc) {
    return switch (type) {
      case "string" -> new Problem(loc, "Input should be a valid string", "string_type", v);
      case "integer" -> integerProblem(v, loc);
      case "number" -> new Problem(loc, "Input should be a valid number", "float_type", v);
      case "boolean" -> new Problem(loc, "Input should be a valid boolean", "bool_type", v);
      case "null" -> new Problem(loc, "Input should be None", "none_required", v);
      case "object" ->
          new Problem(
              loc,
              "Input should be a valid dictionary or object to extract fields from",
              "model_attributes_type",
              v);
      default -> new Problem(loc, "Input should be a valid list", "list_type", v);
    };
  }

  private static Problem integerProblem(JsonNode v, List<Object> loc) {
    if (!v.isNumber()) return new Problem(loc, "Input should be a valid integer", "int_type", v);
    if (v.decimalValue().stripTrailingZeros().scale() > 0) {
      return new Problem(
          loc,
          "Input should be a valid integer, got a number with a fractional part",
          "int_from_float",
          v);
    }
    // Pydantic's lax mode would take 5.0; BFL's strictness is not documented, so a client must send
    // 5.
    return new Problem(
        loc, "Input should be a valid integer, got the float " + v.asText(), "int_type", v);
  }

  private static void checkEnum(JsonNode s, JsonNode value, List<Object> loc, List<Problem> out) {
    JsonNode allowed = s.get("enum");
    if (allowed == null) return;
    for (JsonNode option : allowed) {
      if (option.equals(value)) return;
    }
    List<String> quoted = new ArrayList<>();
    allowed.forEach(o -> quoted.add(o.isTextual() ? "'" + o.asText() + "'" : o.toString()));
    String choices =
        quoted.size() == 1
            ? quoted.get(0)
            : String.join(", ", quoted.subList(0, quoted.size() - 1))
                + " or "
                + quoted.get(quoted.size() - 1);
    out.add(new Problem(loc, "Input should be " + choices, "enum", value));
  }

  private static void checkNumber(JsonNode s, JsonNode value, List<Object> loc, List<Problem> out) {
    BigDecimal n = value.decimalValue();
    if (s.has("minimum") && n.compareTo(s.get("minimum").decimalValue()) < 0) {
      out.add(
          new Problem(
              loc,
              "Input should be greater than or equal to " + plain(s.get("minimum")),
              "greater_than_equal",
              value));
    }
    if (s.has("maximum") && n.compareTo(s.get("maximum").decimalValue()) > 0) {
      out.add(
          new Problem(
              loc,
              "Input should be less than or equal to " + plain(s.get("maximum")),
              "less_than_equal",
              value));
    }
    if (s.has("multipleOf") && n.remainder(s.get("multipleOf").decimalValue()).signum() != 0) {
      out.add(
          new Problem(
              loc,
              "Input should be a multiple of " + plain(s.get("multipleOf")),
              "multiple_of",
              value));
    }
  }

  private static void checkString(JsonNode s, JsonNode value, List<Object> loc, List<Problem> out) {
    String text = value.textValue();
    int length = text.codePointCount(0, text.length());
    if (s.has("minLength") && length < s.get("minLength").asInt()) {
      int min = s.get("minLength").asInt();
      out.add(
          new Problem(
              loc,
              "String should have at least " + min + (min == 1 ? " character" : " characters"),
              "string_too_short",
              value));
    }
    if (s.has("maxLength") && length > s.get("maxLength").asInt()) {
      int max = s.get("maxLength").asInt();
      out.add(
          new Problem(
              loc,
              "String should have at most " + max + (max == 1 ? " character" : " characters"),
              "string_too_long",
              value));
    }
    if ("uri".equals(s.path("format").asText()) && !isAbsoluteUri(text)) {
      out.add(
          new Problem(
              loc,
              "Input should be a valid URL, relative URL without a base",
              "url_parsing",
              value));
    }
  }

  private static boolean isAbsoluteUri(String text) {
    try {
      URI uri = new URI(text);
      return uri.isAbsolute()
          && uri.getSchemeSpecificPart() != null
          && !uri.getSchemeSpecificPart().isEmpty();
    } catch (URISyntaxException e) {
      return false;
    }
  }

  /**
   * Whether the schema constrains fields; {@code {}} and a bare {@code "type": "object"} do not.
   */
  private static boolean isObjectSchema(JsonNode s) {
    return s.has("properties") || s.has("required") || s.has("additionalProperties");
  }

  private void checkObject(JsonNode s, JsonNode value, List<Object> loc, List<Problem> out) {
    JsonNode properties = s.path("properties");
    JsonNode required = s.path("required");
    for (Map.Entry<String, JsonNode> property : properties.properties()) {
      String name = property.getKey();
      if (value.has(name)) {
        check(property.getValue(), value.get(name), Problem.at(loc, name), out);
      } else if (contains(required, name)) {
        out.add(new Problem(Problem.at(loc, name), "Field required", "missing", value));
      }
    }
    for (JsonNode name : required) {
      if (!properties.has(name.asText()) && !value.has(name.asText())) {
        out.add(new Problem(Problem.at(loc, name.asText()), "Field required", "missing", value));
      }
    }
    JsonNode additional = s.get("additionalProperties");
    for (Map.Entry<String, JsonNode> field : value.properties()) {
      if (properties.has(field.getKey())) continue;
      List<Object> where = Problem.at(loc, field.getKey());
      if (additional != null && additional.isObject())
        check(additional, field.getValue(), where, out);
      else if (additional == null ? forbidUnlisted : !additional.asBoolean()) {
        out.add(
            new Problem(
                where, "Extra inputs are not permitted", "extra_forbidden", field.getValue()));
      }
    }
  }

  private static boolean contains(JsonNode array, String text) {
    for (JsonNode item : array) {
      if (item.asText().equals(text)) return true;
    }
    return false;
  }

  private static String plain(JsonNode number) {
    return number.decimalValue().stripTrailingZeros().toPlainString();
  }
}
