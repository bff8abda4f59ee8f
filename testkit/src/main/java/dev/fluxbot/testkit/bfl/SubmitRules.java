package dev.fluxbot.testkit.bfl;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The documented submit rules that the OpenAPI schemas do not express (bfl-api.md): sizes in
 * multiples of 16 up to 4 MP, and reference images as http(s) URLs or raw base64 of a PNG, JPEG or
 * WebP. Messages follow pydantic's "Value error, …" for custom validators.
 */
final class SubmitRules {
  static final int DEFAULT_SIDE = 1024;
  static final long MAX_PIXELS = 4L * 1024 * 1024;
  static final Pattern INPUT_IMAGE = Pattern.compile("input_image(_[2-8])?");

  private SubmitRules() {}

  /** Problems of a schema-checked body, skipping fields the schema already found fault with. */
  static List<Problem> check(JsonNode body, Set<String> faulty) {
    List<Problem> out = new ArrayList<>();
    checkSize(body, faulty, out);
    for (Map.Entry<String, JsonNode> field : body.properties()) {
      String name = field.getKey();
      if (INPUT_IMAGE.matcher(name).matches()
          && !faulty.contains(name)
          && field.getValue().isTextual()) {
        checkImage(name, field.getValue().textValue(), out);
      }
    }
    return out;
  }

  /** A side as the fake renders it: 0, null or absent lets the model choose, which here is 1024. */
  static long side(JsonNode body, String field) {
    JsonNode v = body.get(field);
    return v == null || !v.isIntegralNumber() || v.longValue() == 0 ? DEFAULT_SIDE : v.longValue();
  }

  private static void checkSize(JsonNode body, Set<String> faulty, List<Problem> out) {
    if (faulty.contains("width") || faulty.contains("height")) return;
    boolean multiples = true;
    for (String field : List.of("width", "height")) {
      JsonNode v = body.get(field);
      if (v != null && v.isIntegralNumber() && v.longValue() % 16 != 0) {
        long n = v.longValue();
        out.add(
            valueError(
                field,
                field
                    + " must be a multiple of 16, got "
                    + n
                    + "; the nearest allowed values are "
                    + Math.floorDiv(n, 16) * 16
                    + " and "
                    + (Math.floorDiv(n, 16) + 1) * 16,
                v));
        multiples = false;
      }
    }
    long w = side(body, "width");
    long h = side(body, "height");
    if (multiples && w > MAX_PIXELS / h) {
      out.add(
          new Problem(
              List.of("body"),
              "Value error, width × height must be at most 4 MP ("
                  + MAX_PIXELS
                  + " pixels, e.g. 2048 × 2048), got "
                  + w
                  + " × "
                  + h
                  + " = "
                  + w * h,
              "value_error",
              null));
    }
  }

  private static void checkImage(String field, String value, List<Problem> out) {
    if (value.regionMatches(true, 0, "data:", 0, 5)) {
      int comma = value.indexOf(',');
      String prefix = comma < 0 ? abbreviate(value) : value.substring(0, comma + 1);
      out.add(
          valueError(
              field,
              field
                  + " must be an http(s) URL or raw base64 without a data: prefix; remove \""
                  + prefix
                  + "\"",
              null));
    } else if (looksLikeUrl(value)) {
      if (!isHttpUrl(value))
        out.add(
            valueError(
                field, field + " is not a valid http(s) URL: \"" + abbreviate(value) + "\"", null));
    } else {
      checkBase64Image(field, value, out);
    }
  }

  /** Whether a reference image is given as a URL rather than base64. */
  static boolean looksLikeUrl(String value) {
    return value.regionMatches(true, 0, "http://", 0, 7)
        || value.regionMatches(true, 0, "https://", 0, 8);
  }

  private static void checkBase64Image(String field, String value, List<Problem> out) {
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(value);
    } catch (IllegalArgumentException e) {
      out.add(
          valueError(
              field,
              field + " must be an http(s) URL or raw base64, got \"" + abbreviate(value) + "\"",
              null));
      return;
    }
    if (ImageSniffer.formatOf(bytes) == null) {
      out.add(
          valueError(
              field,
              field
                  + " must be a base64 PNG, JPEG or WebP image, but its bytes start with "
                  + (bytes.length == 0 ? "nothing" : ImageSniffer.hexPrefix(bytes)),
              null));
    }
  }

  private static boolean isHttpUrl(String value) {
    try {
      URI uri = new URI(value);
      return uri.getHost() != null && !uri.getHost().isEmpty();
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static Problem valueError(String field, String message, JsonNode input) {
    return new Problem(List.of("body", field), "Value error, " + message, "value_error", input);
  }

  private static String abbreviate(String value) {
    return value.length() <= 40 ? value : value.substring(0, 40) + "…";
  }
}
