package dev.fluxbot.testkit.telegram;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Bot API request's parameters, from wherever the client put them: the query string, a JSON body,
 * a form body or a {@code multipart/form-data} body (files become {@link TelegramCall.Part}s).
 */
record FormData(Map<String, String> params, List<TelegramCall.Part> parts) {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern BOUNDARY =
      Pattern.compile("boundary=\"?([^\";]+)\"?", Pattern.CASE_INSENSITIVE);
  private static final Pattern NAME =
      Pattern.compile("\\bname=\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);
  private static final Pattern FILENAME =
      Pattern.compile("\\bfilename=\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);

  /**
   * @throws IllegalArgumentException for a body that does not parse as its content type says
   */
  static FormData read(String query, String contentType, byte[] body) {
    Map<String, String> params = new LinkedHashMap<>();
    List<TelegramCall.Part> parts = new ArrayList<>();
    if (query != null) {
      urlEncoded(query, params);
    }
    String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
    if (body.length == 0) {
      return new FormData(params, parts);
    }
    if (type.startsWith("application/json")) {
      json(body, params);
    } else if (type.startsWith("application/x-www-form-urlencoded")) {
      urlEncoded(new String(body, StandardCharsets.UTF_8), params);
    } else if (type.startsWith("multipart/form-data")) {
      Matcher m = BOUNDARY.matcher(contentType);
      if (!m.find()) {
        throw new IllegalArgumentException("multipart body without a boundary");
      }
      multipart(body, m.group(1), params, parts);
    }
    return new FormData(params, parts);
  }

  private static void urlEncoded(String text, Map<String, String> params) {
    for (String pair : text.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      params.put(
          key, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
  }

  private static void json(byte[] body, Map<String, String> params) {
    try {
      JsonNode root = JSON.readTree(body);
      if (!root.isObject()) {
        throw new IllegalArgumentException("the JSON body is not an object");
      }
      root.fields()
          .forEachRemaining(
              e -> {
                JsonNode v = e.getValue();
                if (!v.isNull()) {
                  params.put(e.getKey(), v.isContainerNode() ? v.toString() : v.asText());
                }
              });
    } catch (IOException e) {
      throw new IllegalArgumentException("the body is not JSON: " + e.getMessage(), e);
    }
  }

  private static void multipart(
      byte[] body, String boundary, Map<String, String> params, List<TelegramCall.Part> parts) {
    byte[] delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    byte[] first = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    int at = find(body, first, 0);
    if (at < 0) {
      throw new IllegalArgumentException("multipart body without its boundary");
    }
    int cursor = at + first.length;
    while (cursor + 2 <= body.length && !(body[cursor] == '-' && body[cursor + 1] == '-')) {
      int headersStart = cursor + 2; // past CRLF
      int headersEnd = find(body, new byte[] {'\r', '\n', '\r', '\n'}, headersStart);
      int next = headersEnd < 0 ? -1 : find(body, delimiter, headersEnd + 4);
      if (next < 0) {
        throw new IllegalArgumentException("a multipart part is not closed");
      }
      String headers =
          new String(body, headersStart, headersEnd - headersStart, StandardCharsets.UTF_8);
      byte[] content = java.util.Arrays.copyOfRange(body, headersEnd + 4, next);
      part(headers, content, params, parts);
      cursor = next + delimiter.length;
    }
  }

  private static void part(
      String headers, byte[] content, Map<String, String> params, List<TelegramCall.Part> parts) {
    String disposition = "";
    String type = null;
    for (String line : headers.split("\r\n")) {
      String lower = line.toLowerCase(Locale.ROOT);
      if (lower.startsWith("content-disposition:")) {
        disposition = line.substring(line.indexOf(':') + 1).trim();
      } else if (lower.startsWith("content-type:")) {
        type = line.substring(line.indexOf(':') + 1).trim();
      }
    }
    Matcher name = NAME.matcher(disposition);
    if (!name.find()) {
      throw new IllegalArgumentException("a multipart part has no name: " + disposition);
    }
    Matcher filename = FILENAME.matcher(disposition);
    if (filename.find()) {
      parts.add(new TelegramCall.Part(name.group(1), filename.group(1), type, content));
    } else {
      params.put(name.group(1), new String(content, StandardCharsets.UTF_8));
    }
  }

  private static int find(byte[] haystack, byte[] needle, int from) {
    outer:
    for (int i = Math.max(0, from); i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
