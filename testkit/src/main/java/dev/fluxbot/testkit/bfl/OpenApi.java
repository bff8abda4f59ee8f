package dev.fluxbot.testkit.bfl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** BFL's published OpenAPI document, read once from the classpath. */
final class OpenApi {
  static final String RESOURCE = "/dev/fluxbot/testkit/bfl-openapi.json";
  static final JsonNode DOCUMENT = load();

  private OpenApi() {}

  /** The schema of a POST path's JSON request body, usually a {@code $ref}. */
  static JsonNode requestSchema(String path) {
    JsonNode schema =
        DOCUMENT
            .path("paths")
            .path(path)
            .path("post")
            .path("requestBody")
            .path("content")
            .path("application/json")
            .path("schema");
    if (schema.isMissingNode()) {
      throw new IllegalStateException(
          "The OpenAPI document " + RESOURCE + " has no JSON request body for POST " + path);
    }
    return schema;
  }

  private static JsonNode load() {
    try (InputStream in = OpenApi.class.getResourceAsStream(RESOURCE)) {
      if (in == null) throw new IllegalStateException("Missing classpath resource " + RESOURCE);
      return Json.MAPPER.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not read " + RESOURCE, e);
    }
  }
}
