package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Objects;

/**
 * One request the fake Slack received: a Web API method ({@code chat.postMessage}), or one of
 * {@link #UPLOAD}, {@link #DOWNLOAD}, {@link #RESPONSE_URL}.
 *
 * @param params the form fields or JSON body, the token left out
 * @param authorized whether the request carried a token the fake accepts for it
 * @param status the HTTP status the fake answered
 * @param error Slack's {@code error} code when {@code ok} was false, else null
 */
public record SlackCall(
    String method, JsonNode params, boolean authorized, int status, String error, Instant at) {
  public static final String UPLOAD = "upload";
  public static final String DOWNLOAD = "files.download";
  public static final String RESPONSE_URL = "response_url";

  public SlackCall {
    Objects.requireNonNull(method, "method");
    params = params.deepCopy();
  }

  /** A parameter as text, or null. */
  public String param(String name) {
    JsonNode v = params.get(name);
    return v == null || v.isNull() ? null : v.isValueNode() ? v.asText() : v.toString();
  }

  public boolean ok() {
    return status == 200 && error == null;
  }

  @Override
  public String toString() {
    return method + " " + params + " -> " + status + (error == null ? "" : " " + error);
  }
}
