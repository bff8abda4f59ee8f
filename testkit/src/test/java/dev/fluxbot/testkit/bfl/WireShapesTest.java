package dev.fluxbot.testkit.bfl;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.Scenario;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fake's own answers match the response schemas of the OpenAPI document. */
class WireShapesTest {
  private final SchemaChecker checker = SchemaChecker.forResponses(OpenApi.DOCUMENT);

  private static JsonNode get(HttpClient http, String url, String key) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).header("x-key", key).build();
    return Json.MAPPER.readTree(http.send(request, HttpResponse.BodyHandlers.ofString()).body());
  }

  private static JsonNode post(HttpClient http, String url, String key, String body)
      throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(url))
            .header("x-key", key)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    return Json.MAPPER.readTree(http.send(request, HttpResponse.BodyHandlers.ofString()).body());
  }

  private void assertMatches(String schema, JsonNode value) {
    JsonNode ref = Json.object().put("$ref", "#/components/schemas/" + schema);
    assertThat(checker.check(ref, value, List.of(schema))).as(value.toString()).isEmpty();
  }

  @Test
  void submitPollCreditsAndValidationAnswersMatchTheDocument() throws Exception {
    try (FakeBflApi fake = FakeBflApi.start();
        HttpClient http = HttpClient.newHttpClient()) {
      fake.enqueue(Scenario.statuses("Pending", "Ready"), Scenario.error("boom"));
      String submitUrl = fake.baseUrl() + "/v1/flux-2-pro";

      JsonNode submitted = post(http, submitUrl, fake.key(), "{\"prompt\": \"a\"}");
      assertMatches("AsyncResponse", submitted);
      String pollingUrl = submitted.get("polling_url").asText();
      assertMatches("ResultResponse", get(http, pollingUrl, fake.key()));
      assertMatches("ResultResponse", get(http, pollingUrl, fake.key()));

      String failing =
          post(http, submitUrl, fake.key(), "{\"prompt\": \"a\"}").get("polling_url").asText();
      get(http, failing, fake.key());
      assertMatches("ResultResponse", get(http, failing, fake.key()));

      assertMatches(
          "AsyncWebhookResponse",
          post(
              http,
              submitUrl,
              fake.key(),
              "{\"prompt\": \"a\", \"webhook_url\": \"https://x.example/h\"}"));
      assertMatches("CreditsResponse", get(http, fake.baseUrl() + "/v1/credits", fake.key()));
      assertMatches(
          "HTTPValidationError",
          post(http, submitUrl, fake.key(), "{\"prompt\": 1, \"width\": 1000}"));
      assertMatches(
          "ResultResponse",
          get(http, fake.pollingBaseUrl() + "/v1/get_result?id=nope", fake.key()));
    }
  }
}
