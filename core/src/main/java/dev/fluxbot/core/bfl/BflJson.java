package dev.fluxbot.core.bfl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.UserError.Code;
import dev.fluxbot.core.bfl.BflBackend.Ready;
import dev.fluxbot.core.bfl.BflBackend.Submitted;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.ReferenceImage;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.SocketTimeoutException;
import java.util.List;
import okhttp3.HttpUrl;

/** BFL's JSON: the submit body sent, the answers read, and the user errors they become. */
final class BflJson {
  private final BflConfig config;
  private final ObjectMapper mapper = new ObjectMapper();

  BflJson(BflConfig config) {
    this.config = config;
  }

  // --- submit ---

  byte[] body(GenerationJob job, BflWebhooks hooks) {
    GenerationRequest r = job.request();
    ObjectNode body = mapper.createObjectNode();
    body.put("prompt", r.prompt());
    List<ReferenceImage> refs = job.references();
    for (int i = 0; i < refs.size(); i++) {
      body.put(i == 0 ? "input_image" : "input_image_" + (i + 1), refs.get(i).base64());
    }
    body.put("seed", r.seed());
    body.put("width", r.size().width());
    body.put("height", r.size().height());
    body.put("safety_tolerance", r.safetyTolerance());
    body.put("output_format", r.format().apiName());
    if (r.steps() != null) {
      body.put("steps", r.steps());
    }
    if (r.guidance() != null) {
      body.put("guidance", r.guidance());
    }
    if (hooks != null) {
      body.put("webhook_url", hooks.url().toString());
      body.put("webhook_secret", hooks.secret().reveal());
    }
    try {
      return mapper.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new IllegalStateException("writing JSON", e);
    }
  }

  /**
   * The submit's answer. With a webhook BFL sends no {@code polling_url}; the task is then asked
   * about at {@code <base>/v1/get_result?id=} (marked as guessed: a host that does not know it
   * stops the safety polls, not the job).
   */
  Submitted submitted(String text, boolean webhook) {
    JsonNode node = json(text);
    String id = node.path("id").asText("");
    String polling = node.path("polling_url").asText("");
    HttpUrl pollingUrl = HttpUrl.parse(polling);
    boolean guessed = false;
    if (pollingUrl == null && webhook && !id.isEmpty()) {
      pollingUrl = getResult(id);
      guessed = true;
    }
    if (id.isEmpty() || pollingUrl == null) {
      throw new UserError(
          Code.BACKEND_FAILED,
          "BFL accepted the task but sent no usable id and polling_url ("
              + shorten(redact(text))
              + "); try again.");
    }
    BigDecimal cost =
        node.hasNonNull("cost") && node.get("cost").isNumber()
            ? node.get("cost").decimalValue()
            : null;
    return new Submitted(id, pollingUrl, cost, webhook, guessed);
  }

  /** {@code <base>/v1/get_result?id=<id>}. */
  HttpUrl getResult(String id) {
    return HttpUrl.get(config.baseUrl().resolve("/v1/get_result").toString())
        .newBuilder()
        .addQueryParameter("id", id)
        .build();
  }

  UserError submitError(int code, String text, GenerationJob job) {
    String detail = detail(text);
    String model = job.request().model().id();
    return switch (code) {
      case 400 ->
          new UserError(
              Code.BACKEND_REJECTED,
              "BFL refused the " + model + " request (400): " + detail + ".");
      case 401, 403 ->
          new UserError(
              Code.BACKEND_AUTH,
              "BFL refused the API key ("
                  + code
                  + ": "
                  + detail
                  + "). An admin should check BFL_API_KEY and the key's access to "
                  + model
                  + ".");
      case 402 ->
          new UserError(
              Code.BACKEND_CREDITS,
              "The BFL account is out of credits (402: "
                  + detail
                  + "). An admin must add credits at https://dashboard.bfl.ai; nothing was charged.");
      case 404 ->
          new UserError(
              Code.BACKEND_REJECTED,
              "BFL has no endpoint "
                  + job.request().model().endpoint()
                  + " (404); check the BFL base URL.");
      case 422 ->
          new UserError(
              Code.BACKEND_REJECTED, "BFL rejected the " + model + " request: " + detail + ".");
      default ->
          code >= 500
              ? new UserError(
                  Code.BACKEND_FAILED,
                  "BFL answered "
                      + code
                      + " to the "
                      + model
                      + " submit ("
                      + detail
                      + "). Not retried, since BFL may already have billed it; try again in a minute.")
              : new UserError(
                  Code.BACKEND_FAILED, "BFL answered " + code + " to the submit (" + detail + ").");
    };
  }

  UserError submitTimedOut(GenerationJob job, SocketTimeoutException e) {
    return new UserError(
        Code.BACKEND_FAILED,
        "BFL did not answer the "
            + job.request().model().id()
            + " submit in time. Not retried, since BFL may already have accepted and billed it; "
            + "check your images at BFL and try again.",
        e);
  }

  UserError unreachable(HttpUrl url, IOException e, int tries) {
    return new UserError(
        Code.BACKEND_UNAVAILABLE,
        "Could not reach the BFL API at "
            + url.host()
            + " ("
            + e.getClass().getSimpleName()
            + ", "
            + tries
            + " tries). Check the "
            + "network or the BFL base URL, then try again.",
        e);
  }

  UserError submitBroke(IOException e) {
    return new UserError(
        Code.BACKEND_FAILED,
        "The connection to BFL broke during the submit ("
            + redact(e.getMessage())
            + "). Not retried, since BFL may already have accepted it; try again.",
        e);
  }

  // --- poll ---

  /** A poll's 200 or 404 answer as JSON (a 404 reads as "Task not found"); others are errors. */
  JsonNode pollAnswer(Submitted task, int code, String text) {
    if (code == 404) {
      return mapper.createObjectNode().put("status", "Task not found");
    }
    if (code != 200) {
      throw new UserError(
          Code.BACKEND_FAILED,
          "BFL answered "
              + code
              + " when asked about task "
              + task.id()
              + " ("
              + detail(text)
              + ").");
    }
    return json(text);
  }

  UserError failed(Submitted task, JsonNode node) {
    return new UserError(
        Code.BACKEND_FAILED,
        "BFL could not make the image (task "
            + task.id()
            + "): "
            + errorDetail(node)
            + ". You were not charged for it; try again.");
  }

  UserError gone(Submitted task) {
    return new UserError(
        Code.BACKEND_FAILED,
        "BFL no longer knows task " + task.id() + " (Task not found); try again.");
  }

  Ready ready(Submitted task, JsonNode node) {
    JsonNode result = node.path("result");
    HttpUrl sample = HttpUrl.parse(result.path("sample").asText(""));
    if (sample == null) {
      throw new UserError(
          Code.BACKEND_FAILED,
          "BFL said task " + task.id() + " is ready but sent no image URL; try again.");
    }
    Long seed =
        result.path("seed").canConvertToLong() && result.path("seed").isIntegralNumber()
            ? result.path("seed").asLong()
            : null;
    return new Ready(sample, seed);
  }

  UserError moderated(String status, JsonNode node) {
    String what =
        status.equals("Request Moderated")
            ? "BFL's moderation blocked the request (the prompt or a reference image)"
            : "BFL's moderation blocked the generated image";
    String reasons = moderationReasons(node);
    return new UserError(
        Code.MODERATED,
        what
            + (reasons.isEmpty() ? "" : ": " + reasons)
            + ". You were not charged. Rephrase the prompt or use other references.");
  }

  private static String moderationReasons(JsonNode node) {
    JsonNode details = node.path("details");
    JsonNode reasons = details.path("Moderation Reasons");
    if (reasons.isArray() && !reasons.isEmpty()) {
      StringBuilder sb = new StringBuilder();
      reasons.forEach(r -> sb.append(sb.isEmpty() ? "" : ", ").append(r.asText()));
      return sb.toString();
    }
    return details.isTextual() ? details.asText() : "";
  }

  private String errorDetail(JsonNode node) {
    JsonNode details = node.path("details");
    if (details.isTextual()) {
      return shorten(redact(details.asText()));
    }
    if (details.isObject() && !details.isEmpty()) {
      JsonNode first = details.elements().next();
      return shorten(redact(first.isTextual() ? first.asText() : details.toString()));
    }
    JsonNode error = node.path("result").path("error");
    return error.isMissingNode() || error.isNull()
        ? "no reason given"
        : shorten(redact(error.asText()));
  }

  // --- download ---

  UserError tooBig(String taskId) {
    return new UserError(
        Code.BACKEND_FAILED,
        "The image of BFL task "
            + taskId
            + " is larger than "
            + config.maxResultBytes() / (1024 * 1024)
            + " MiB; fluxbot refused to download it.");
  }

  // --- text ---

  private JsonNode json(String text) {
    try {
      return mapper.readTree(text);
    } catch (IOException e) {
      throw new UserError(
          Code.BACKEND_FAILED,
          "BFL sent an answer that is not JSON (" + shorten(redact(text)) + ").");
    }
  }

  /**
   * The message of a {@code {"detail": …}} body (FastAPI's 422 list included), or the text itself.
   */
  String detail(String text) {
    try {
      JsonNode detail = mapper.readTree(text).path("detail");
      if (detail.isTextual()) {
        return shorten(redact(detail.asText()));
      }
      if (detail.isArray() && !detail.isEmpty()) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode d : detail) {
          JsonNode loc = d.path("loc");
          String field =
              loc.isArray() && !loc.isEmpty() ? loc.get(loc.size() - 1).asText() : "request";
          sb.append(sb.isEmpty() ? "" : "; ")
              .append(field)
              .append(": ")
              .append(d.path("msg").asText("invalid"));
        }
        return shorten(redact(sb.toString()));
      }
    } catch (IOException e) {
      // not JSON: fall through to the text
    }
    return text.isBlank() ? "no details" : shorten(redact(text.strip()));
  }

  String redact(String text) {
    if (text == null) {
      return "";
    }
    return config.apiKey() == null ? text : text.replace(config.apiKey().reveal(), "[redacted]");
  }

  private static String shorten(String text) {
    return text.length() <= 300 ? text : text.substring(0, 300) + "…";
  }
}
