package dev.fluxbot.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * One HTTP request to the fake Discord (REST or CDN) and the status it was answered with.
 *
 * @param target the path and query, as sent, e.g. {@code /api/v10/users/@me}
 * @param headers names compare case-insensitively
 * @param json the JSON body, or a multipart request's {@code payload_json}; a missing node
 *     otherwise
 * @param parts every part of a multipart body, in order; empty for other bodies
 * @param receivedAt on the fake's clock
 */
public record DiscordRequest(
    String method,
    String target,
    Map<String, List<String>> headers,
    byte[] body,
    JsonNode json,
    List<DiscordPart> parts,
    int status,
    Instant receivedAt) {
  public DiscordRequest {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(target, "target");
    headers = caseInsensitive(headers);
    body = body.clone();
    json = json.deepCopy();
    parts = List.copyOf(parts);
    Objects.requireNonNull(receivedAt, "receivedAt");
  }

  @Override
  public byte[] body() {
    return body.clone();
  }

  @Override
  public JsonNode json() {
    return json.deepCopy();
  }

  /** The path, without the query. */
  public String path() {
    return RequestTargets.path(target);
  }

  /** The first value of a query parameter, decoded. */
  public Optional<String> queryParameter(String name) {
    return RequestTargets.queryParameter(target, name);
  }

  /** The first value of a header. */
  public Optional<String> header(String name) {
    List<String> values = headers.get(name);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  public boolean isMultipart() {
    return !parts.isEmpty();
  }

  /** The {@code files[n]} parts, in order. */
  public List<DiscordPart> files() {
    return parts.stream().filter(DiscordPart::isFile).toList();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DiscordRequest r
        && method.equals(r.method)
        && target.equals(r.target)
        && headers.equals(r.headers)
        && Arrays.equals(body, r.body)
        && status == r.status
        && receivedAt.equals(r.receivedAt);
  }

  @Override
  public int hashCode() {
    return Objects.hash(method, target, Arrays.hashCode(body), status, receivedAt);
  }

  @Override
  public String toString() {
    return method
        + " "
        + target
        + " -> "
        + status
        + " ("
        + body.length
        + " bytes"
        + (parts.isEmpty() ? "" : ", parts " + parts.stream().map(DiscordPart::name).toList())
        + ")";
  }

  private static Map<String, List<String>> caseInsensitive(Map<String, List<String>> headers) {
    TreeMap<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.forEach(
        (name, values) ->
            copy.merge(
                name,
                List.copyOf(values),
                (a, b) -> Stream.concat(a.stream(), b.stream()).toList()));
    return Collections.unmodifiableMap(copy);
  }
}
