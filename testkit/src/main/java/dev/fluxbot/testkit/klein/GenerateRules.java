package dev.fluxbot.testkit.klein;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.Iterator;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * The worker's request rules (protocol v1, {@code runtime-local/README.md}): the first broken one,
 * as the worker would name it. The prompt's tokens are estimated as one per word plus {@value
 * #TEMPLATE_TOKENS} for the chat template, where the worker counts real tokens.
 */
final class GenerateRules {
  static final int TEMPLATE_TOKENS = 24;
  static final int MAX_PROMPT_CHARS = 10_000;
  static final long MAX_PIXELS = 4_194_304;
  static final long MAX_SEED = 4_294_967_295L;
  private static final Set<String> FIELDS =
      Set.of(
          "id",
          "prompt",
          "width",
          "height",
          "seed",
          "steps",
          "guidance",
          "references",
          "output_format");

  private GenerateRules() {}

  /** A broken rule: an error line's code, field and message. */
  record Violation(String code, String field, String message) {}

  /** The first broken rule of {@code body}, or null when it is valid. */
  static Violation check(JsonNode body, int maxReferences, int maxPromptTokens) {
    if (body == null || !body.isObject()) {
      return invalid("body", "must be a JSON object");
    }
    Violation fields = unknownField(body);
    if (fields != null) {
      return fields;
    }
    Violation prompt = prompt(body.path("prompt"), maxPromptTokens);
    if (prompt != null) {
      return prompt;
    }
    Violation size = side(body, "width");
    size = size != null ? size : side(body, "height");
    if (size != null) {
      return size;
    }
    long pixels = body.get("width").asLong() * body.get("height").asLong();
    if (pixels > MAX_PIXELS) {
      return invalid("width", "width × height must be at most 4194304 pixels; got " + pixels);
    }
    JsonNode seed = body.path("seed");
    if (!seed.isIntegralNumber()
        || seed.asLong() < 0
        || seed.asLong() > MAX_SEED
        || !seed.canConvertToLong()) {
      return invalid("seed", "must be an integer 0..4294967295; got " + shown(seed));
    }
    Violation steps = optionalRange(body, "steps", 1, 100, true);
    if (steps != null) {
      return steps;
    }
    Violation guidance = optionalRange(body, "guidance", 1, 20, false);
    if (guidance != null) {
      return guidance;
    }
    JsonNode format = body.path("output_format");
    if (!format.isMissingNode()
        && !format.isNull()
        && !Set.of("png", "jpeg", "webp").contains(format.asText())) {
      return invalid("output_format", "must be png, jpeg or webp; got " + shown(format));
    }
    return references(body.path("references"), maxReferences);
  }

  private static Violation unknownField(JsonNode body) {
    for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!FIELDS.contains(name)) {
        return invalid(
            name,
            "is not a field of /v1/generate; known: "
                + String.join(", ", FIELDS.stream().sorted().toList()));
      }
    }
    return null;
  }

  private static Violation prompt(JsonNode prompt, int maxPromptTokens) {
    if (!prompt.isTextual() || prompt.asText().isBlank()) {
      return invalid("prompt", "must be a non-empty string; got " + shown(prompt));
    }
    if (prompt.asText().length() > MAX_PROMPT_CHARS) {
      return invalid("prompt", "must be at most 10000 characters; got " + prompt.asText().length());
    }
    int tokens = prompt.asText().strip().split("\\s+").length + TEMPLATE_TOKENS;
    if (tokens > maxPromptTokens) {
      return new Violation(
          "prompt_too_long",
          "prompt",
          "prompt: must fit in "
              + maxPromptTokens
              + " tokens with the chat template; got about "
              + tokens
              + ". Shorten the prompt.");
    }
    return null;
  }

  private static Violation side(JsonNode body, String field) {
    JsonNode v = body.path(field);
    if (!v.isIntegralNumber() || v.asLong() < 64 || v.asLong() > 2048 || v.asLong() % 16 != 0) {
      return invalid(field, "must be a multiple of 16 in 64..2048; got " + shown(v));
    }
    return null;
  }

  private static Violation optionalRange(
      JsonNode body, String field, double min, double max, boolean integral) {
    JsonNode v = body.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return null;
    }
    if (!(integral ? v.isIntegralNumber() : v.isNumber())
        || v.asDouble() < min
        || v.asDouble() > max) {
      return invalid(
          field,
          "must be null or "
              + (integral ? "an integer " : "a number ")
              + (int) min
              + ".."
              + (int) max
              + "; got "
              + shown(v));
    }
    return null;
  }

  private static Violation references(JsonNode refs, int maxReferences) {
    if (refs.isMissingNode() || refs.isNull()) {
      return null;
    }
    if (!refs.isArray()) {
      return invalid("references", "must be a list of {\"data\": base64}; got " + shown(refs));
    }
    if (refs.size() > maxReferences) {
      return new Violation(
          "too_many_references",
          "references",
          "references: at most "
              + maxReferences
              + " reference images; got "
              + refs.size()
              + ". Remove some.");
    }
    for (int i = 0; i < refs.size(); i++) {
      String field = "references[" + i + "]";
      JsonNode data = refs.get(i).path("data");
      byte[] bytes;
      try {
        bytes = Base64.getDecoder().decode(data.asText(""));
      } catch (IllegalArgumentException e) {
        return new Violation("bad_image", field, field + ": data is not base64.");
      }
      if (!decodable(bytes)) {
        return new Violation(
            "bad_image",
            field,
            field
                + ": not a decodable PNG, JPEG or WebP image ("
                + bytes.length
                + " bytes). Attach another image.");
      }
    }
    return null;
  }

  private static boolean decodable(byte[] bytes) {
    if (bytes.length == 0) {
      return false;
    }
    try {
      return ImageIO.read(new ByteArrayInputStream(bytes)) != null;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static Violation invalid(String field, String rule) {
    return new Violation("invalid_request", field, field + ": " + rule);
  }

  private static String shown(JsonNode v) {
    return v.isMissingNode() ? "nothing" : v.toString();
  }
}
