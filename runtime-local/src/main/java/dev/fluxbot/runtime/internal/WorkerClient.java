package dev.fluxbot.runtime.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.runtime.WorkerHealth;
import java.io.IOException;
import java.net.URI;
import java.util.Base64;
import java.util.Objects;
import java.util.function.Consumer;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSource;

/**
 * One worker's HTTP protocol v1 ({@code runtime-local/README.md}): {@code GET /v1/health} and the
 * NDJSON stream of {@code POST /v1/generate}. Both block: call them on a virtual thread.
 */
public final class WorkerClient {
  private static final MediaType JSON = MediaType.get("application/json");

  /**
   * A line longer than this is not a protocol line (an image of 2048² is about 16 MB of base64).
   */
  private static final long MAX_LINE = 64L * 1024 * 1024;

  private final URI url;
  private final HttpUrl base;
  private final OkHttpClient http;
  private final ObjectMapper mapper = new ObjectMapper();

  public WorkerClient(URI url, OkHttpClient http) {
    this.url = Objects.requireNonNull(url, "url");
    this.base = HttpUrl.get(url.toString());
    this.http = http.newBuilder().retryOnConnectionFailure(false).build();
  }

  public URI url() {
    return url;
  }

  /**
   * Asks {@code /v1/health}: 200 (ok) or 503 (loading) with the health body.
   *
   * @throws IOException when the worker does not answer, or answers something else
   */
  public WorkerHealth retrieveHealth() throws IOException {
    Request request = new Request.Builder().url(base.resolve("/v1/health")).get().build();
    try (Response response = http.newCall(request).execute()) {
      String text = response.body().string();
      if (response.code() != 200 && response.code() != 503) {
        throw new IOException("answered HTTP " + response.code() + " to /v1/health");
      }
      try {
        return health(mapper.readTree(text));
      } catch (JsonProcessingException | IllegalArgumentException e) {
        throw new IOException(
            "answered /v1/health with something that is not the health JSON of protocol 1");
      }
    }
  }

  static WorkerHealth health(JsonNode n) {
    if (!n.path("status").isTextual()) {
      throw new IllegalArgumentException("no status");
    }
    JsonNode memory = n.path("memory");
    JsonNode queue = n.path("queue");
    return new WorkerHealth(
        n.path("status").asText(),
        n.path("protocol").asInt(0),
        n.path("model").asText(null),
        n.path("variant").asText(null),
        n.path("device").asText(null),
        n.path("device_name").asText(null),
        n.path("dtype").asText(null),
        new WorkerHealth.Memory(
            memory.path("allocated_bytes").asLong(0),
            memory.path("reserved_bytes").asLong(0),
            memory.path("total_bytes").asLong(0)),
        queue.path("waiting").asInt(0),
        queue.path("running").asInt(0),
        n.path("batch_capacity").asInt(1),
        n.path("max_references").asInt(0),
        n.path("max_prompt_tokens").asInt(0),
        n.path("default_steps").asInt(0));
  }

  /**
   * Posts one request and reads its NDJSON stream to the end, passing each progress event on.
   *
   * @throws WorkerError the worker's {@code error} line (or a refusal before the stream began)
   * @throws WorkerLost the connection broke, or the stream ended without an image or an error
   * @throws IOException the worker could not be reached
   */
  public Generated generate(ObjectNode body, Consumer<StreamEvent> events)
      throws IOException, WorkerError {
    Request request =
        new Request.Builder()
            .url(base.resolve("/v1/generate"))
            .header("accept", "application/x-ndjson")
            .post(RequestBody.create(mapper.writeValueAsBytes(body), JSON))
            .build();
    try (Response response = http.newCall(request).execute()) {
      BufferedSource source = response.body().source();
      if (response.code() != 200) {
        throw refusal(response.code(), source);
      }
      return read(source, events);
    }
  }

  private WorkerError refusal(int status, BufferedSource source) throws IOException {
    String line = source.readUtf8LineStrict(MAX_LINE);
    JsonNode error = line(line);
    if (!"error".equals(error.path("event").asText())) {
      throw new WorkerLost("answered HTTP " + status + " without an error line");
    }
    return error(error, status);
  }

  private Generated read(BufferedSource source, Consumer<StreamEvent> events)
      throws IOException, WorkerError {
    while (true) {
      String line;
      try {
        line = source.readUtf8LineStrict(MAX_LINE);
      } catch (java.io.EOFException e) {
        throw new WorkerLost("the stream ended before the image");
      }
      if (line.isBlank()) {
        continue;
      }
      JsonNode event = line(line);
      switch (event.path("event").asText()) {
        case "queued" -> events.accept(new StreamEvent.Queued(event.path("position").asInt(0)));
        case "started" -> events.accept(new StreamEvent.Started(event.path("batch").asInt(1)));
        case "progress" ->
            events.accept(
                new StreamEvent.Step(event.path("step").asInt(0), event.path("steps").asInt(0)));
        case "image" -> {
          return image(event);
        }
        case "error" -> throw error(event, 200);
        default -> {
          // an event newer than this client: ignored, as the protocol allows
        }
      }
    }
  }

  private JsonNode line(String line) throws WorkerLost {
    try {
      JsonNode node = mapper.readTree(line);
      if (node == null || !node.isObject()) {
        throw new WorkerLost("sent a line that is not a JSON object");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new WorkerLost("sent a line that is not JSON");
    }
  }

  private static Generated image(JsonNode event) throws WorkerLost {
    byte[] data;
    try {
      data = Base64.getDecoder().decode(event.path("data").asText(""));
    } catch (IllegalArgumentException e) {
      throw new WorkerLost("sent an image whose data is not base64");
    }
    if (data.length == 0) {
      throw new WorkerLost("sent an image event without data");
    }
    return new Generated(
        data,
        event.path("format").asText("png"),
        event.path("width").asInt(0),
        event.path("height").asInt(0),
        event.path("seed").asLong(-1),
        event.path("elapsed_ms").asLong(0));
  }

  private static WorkerError error(JsonNode event, int status) {
    String field = event.hasNonNull("field") ? event.get("field").asText() : null;
    return new WorkerError(
        event.path("code").asText("internal"), event.path("message").asText(""), field, status);
  }

  @Override
  public String toString() {
    return "WorkerClient[" + url + "]";
  }
}
