package dev.fluxbot.testkit.bfl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/** The one Jackson mapper of the fake: floats stay doubles, so 5.0 is not an integer. */
final class Json {
  static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .disable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  private Json() {}

  /** Parses a request body; an empty body is a missing node. */
  static JsonNode parse(byte[] body) throws JsonProcessingException {
    if (body.length == 0) return MissingNode.getInstance();
    return MAPPER.readTree(new String(body, StandardCharsets.UTF_8));
  }

  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  static ObjectNode detail(String text) {
    return object().put("detail", text);
  }
}
