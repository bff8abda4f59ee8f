package dev.fluxbot.testkit.bfl;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.fluxbot.testkit.FakeBflApi.RecordedRequest;
import dev.fluxbot.testkit.FakeBflApi.RecordedSubmit;
import java.time.InstantSource;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The global API host: submits to the FLUX.2 endpoints, credits, and a get_result that finds
 * nothing.
 */
final class ApiHost implements RecordingHandler.Responder {
  private final KeyCheck keys;
  private final TaskBook book;
  private final Recorder recorder;
  private final InstantSource clock;
  private final String pollingBaseUrl;
  private final SubmitValidator validator = new SubmitValidator();
  private final WebhookSender webhooks;

  ApiHost(
      KeyCheck keys,
      TaskBook book,
      Recorder recorder,
      InstantSource clock,
      String pollingBaseUrl,
      WebhookSender webhooks) {
    this.webhooks = webhooks;
    this.keys = keys;
    this.book = book;
    this.recorder = recorder;
    this.clock = clock;
    this.pollingBaseUrl = pollingBaseUrl;
  }

  @Override
  public Response respond(RecordedRequest request) {
    Optional<Endpoint> endpoint = Endpoint.ofPath(request.path());
    if (endpoint.isPresent())
      return keys.only("POST", request, () -> submit(endpoint.get(), request));
    return switch (request.path()) {
      case "/v1/credits" ->
          keys.only(
              "GET",
              request,
              () -> Response.json(200, Json.object().put("credits", book.credits())));
      // Tasks live on regional hosts: the global host knows none of them.
      case "/v1/get_result" -> keys.only("GET", request, () -> Response.detail(404, "Not Found"));
      default -> Response.detail(404, "Not Found");
    };
  }

  private Response submit(Endpoint endpoint, RecordedRequest request) {
    JsonNode body = MissingNode.getInstance();
    JsonProcessingException unreadable = null;
    try {
      body = Json.parse(request.body());
    } catch (JsonProcessingException e) {
      unreadable = e;
    }
    List<Problem> problems =
        !isJson(request)
            ? List.of(notJson(request))
            : unreadable != null
                ? List.of(jsonInvalid(unreadable))
                : validator.validate(endpoint, body);
    recorder.submit(new RecordedSubmit(endpoint.slug(), body, request.headers()));
    if (!problems.isEmpty()) {
      recorder.problems(request.path(), problems);
      return Response.json(422, Problem.body(problems));
    }
    Order order = Order.of(endpoint, body);
    return switch (book.admit(order, clock.instant())) {
      case TaskBook.Admission.Refused refused -> refused.response();
      case TaskBook.Admission.Accepted accepted -> {
        if (order.webhookUrl() != null) {
          webhooks.schedule(accepted.task());
        }
        yield Response.json(200, accepted(accepted.task()));
      }
    };
  }

  private ObjectNode accepted(Task task) {
    Order order = task.order();
    ObjectNode json = Json.object().put("id", task.id());
    if (order.webhookUrl() == null) {
      json.put("polling_url", pollingBaseUrl + "/v1/get_result?id=" + task.id());
    } else {
      json.put("status", "Pending").put("webhook_url", order.webhookUrl());
    }
    return json.put("cost", task.cost().doubleValue())
        .put("input_mp", order.inputMegapixels())
        .put("output_mp", order.outputMegapixels());
  }

  /** Like FastAPI: no Content-Type, or a JSON one, means the body is read as JSON. */
  private static boolean isJson(RecordedRequest request) {
    Optional<String> header = request.header("Content-Type");
    if (header.isEmpty()) return true;
    String type = header.get().split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return type.equals("application/json")
        || (type.startsWith("application/") && type.endsWith("+json"));
  }

  private static Problem notJson(RecordedRequest request) {
    return new Problem(
        List.of("body"),
        "Input should be a valid dictionary or object to extract fields from",
        "model_attributes_type",
        TextNode.valueOf(request.bodyText()));
  }

  private static Problem jsonInvalid(JsonProcessingException e) {
    JsonLocation where = e.getLocation();
    long offset = where == null ? 0 : Math.max(0, where.getCharOffset());
    return new Problem(List.of("body", offset), "JSON decode error", "json_invalid", Json.object());
  }
}
