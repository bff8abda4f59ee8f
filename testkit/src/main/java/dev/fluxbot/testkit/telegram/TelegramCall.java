package dev.fluxbot.testkit.telegram;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One Bot API request the fake received, with what it answered.
 *
 * @param method the method as the client wrote it in the path ({@code sendPhoto}, {@code
 *     getupdates})
 * @param params every non-file parameter: query, JSON body, form fields, multipart text parts; JSON
 *     objects and arrays as their JSON text
 * @param parts the multipart file parts, in the order they were sent
 * @param status the HTTP status of the answer
 * @param response the answer's JSON ({@code {"ok":…}})
 * @param host the {@code Host} header the client sent ({@code 127.0.0.1:<port>}, or another name of
 *     the fake such as {@code localhost:<port>}): which client made the call, where several share
 *     the fake; null for what the fake sent itself (webhook pushes)
 */
public record TelegramCall(
    String method,
    Map<String, String> params,
    List<Part> parts,
    int status,
    String response,
    String host) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public TelegramCall {
    Objects.requireNonNull(method, "method");
    params = Map.copyOf(params);
    parts = List.copyOf(parts);
    Objects.requireNonNull(response, "response");
  }

  /** A call with no {@code Host} recorded (what the fake sent itself). */
  public TelegramCall(
      String method, Map<String, String> params, List<Part> parts, int status, String response) {
    this(method, params, parts, status, response, null);
  }

  /** A file part of a multipart request. */
  public record Part(String name, String filename, String contentType, byte[] bytes) {
    public Part {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(bytes, "bytes");
    }

    @Override
    public String toString() {
      return "Part["
          + name
          + ", "
          + filename
          + ", "
          + contentType
          + ", "
          + bytes.length
          + " bytes]";
    }
  }

  /** True for the method whatever its case: the Bot API matches method names case-insensitively. */
  public boolean is(String name) {
    return method.equalsIgnoreCase(name);
  }

  public boolean ok() {
    return status == 200;
  }

  public Optional<String> param(String name) {
    return Optional.ofNullable(params.get(name));
  }

  /**
   * A parameter read as JSON ({@code reply_markup}, {@code media}); missing reads as a missing
   * node.
   */
  public JsonNode json(String name) {
    String value = params.get(name);
    if (value == null) {
      return JSON.missingNode();
    }
    try {
      return JSON.readTree(value);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UncheckedIOException("parameter " + name + " is not JSON: " + value, e);
    }
  }

  /** The answer's {@code result}. */
  public JsonNode result() {
    try {
      return JSON.readTree(response).path("result");
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Optional<Part> part(String name) {
    return parts.stream().filter(p -> p.name().equals(name)).findFirst();
  }

  /**
   * The file uploaded for a field ({@code photo}, {@code document}): the part its {@code
   * attach://name} value points at (as telegrambots sends them), else a part of the field's name.
   */
  public Optional<Part> file(String field) {
    String value = params.get(field);
    String name =
        value != null && value.startsWith("attach://")
            ? value.substring("attach://".length())
            : field;
    return part(name);
  }

  /** The callback data of every inline button in {@code reply_markup}, row by row. */
  public List<String> buttonData() {
    return json("reply_markup").path("inline_keyboard").findValuesAsText("callback_data");
  }

  @Override
  public String toString() {
    String text = params.getOrDefault("text", params.getOrDefault("caption", ""));
    return method
        + " "
        + status
        + " chat="
        + params.get("chat_id")
        + (text.isEmpty()
            ? ""
            : " \"" + (text.length() > 80 ? text.substring(0, 80) + "…" : text) + "\"")
        + (parts.isEmpty() ? "" : " " + parts);
  }
}
