package dev.fluxbot.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.FakeBflApi.Host;
import dev.fluxbot.testkit.FakeBflApi.RecordedSubmit;
import dev.fluxbot.testkit.FakeBflApi.ValidationError;
import dev.fluxbot.testkit.Wire.Reply;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FakeBflApiSubmitTest {
  private FakeBflApi fake;

  @BeforeEach
  void start() {
    fake = FakeBflApi.start();
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  private Reply submit(String endpoint, String json) {
    return Wire.post(fake.baseUrl() + "/v1/" + endpoint, fake.key(), json);
  }

  /** The single problem of a 422, checked against what the fake recorded. */
  private JsonNode onlyProblem(Reply reply) {
    assertThat(reply.status()).as(reply.text()).isEqualTo(422);
    JsonNode detail = reply.json().get("detail");
    assertThat(detail).hasSize(1);
    assertThat(fake.validationErrors()).hasSize(1);
    return detail.get(0);
  }

  private static List<String> loc(JsonNode problem) {
    return Wire.JSON.convertValue(
        problem.get("loc"),
        Wire.JSON.getTypeFactory().constructCollectionType(List.class, String.class));
  }

  @Test
  void validSubmitAnswersIdAndPollingUrlOnAnotherHost() {
    Reply reply = submit("flux-2-pro", "{\"prompt\": \"a red fox\"}");

    assertThat(reply.status()).isEqualTo(200);
    JsonNode json = reply.json();
    String id = json.get("id").asText();
    URI polling = URI.create(json.get("polling_url").asText());
    URI api = URI.create(fake.baseUrl());
    assertThat(fake.baseUrl()).startsWith("http://localhost:");
    assertThat(polling.getHost()).isEqualTo("127.0.0.1").isNotEqualTo(api.getHost());
    assertThat(polling.getPort()).isNotEqualTo(api.getPort());
    assertThat(json.get("polling_url").asText())
        .isEqualTo(fake.pollingBaseUrl() + "/v1/get_result?id=" + id);
    assertThat(json.get("cost").asDouble()).isEqualTo(3.0);
    assertThat(json.get("input_mp").asInt()).isZero();
    assertThat(json.get("output_mp").asInt()).isEqualTo(1);
    assertThat(fake.validationErrors()).isEmpty();
  }

  @Test
  void submitWithoutKeyIs403() {
    Reply reply = Wire.post(fake.baseUrl() + "/v1/flux-2-pro", null, "{\"prompt\": \"a\"}");

    assertThat(reply.status()).isEqualTo(403);
    assertThat(reply.json().get("detail").asText()).isEqualTo("Not authenticated");
    assertThat(fake.submits()).isEmpty();
    assertThat(fake.requests(Host.API)).hasSize(1);
  }

  @Test
  void submitWithWrongKeyIs403() {
    Reply reply =
        Wire.post(fake.baseUrl() + "/v1/flux-2-pro", "not-the-key", "{\"prompt\": \"a\"}");

    assertThat(reply.status()).isEqualTo(403);
    assertThat(reply.json().get("detail").isTextual()).isTrue();
    assertThat(fake.activeTasks()).isZero();
  }

  @Test
  void builderSetsTheKey() {
    try (FakeBflApi other = FakeBflApi.builder().key("k-123").start()) {
      assertThat(
              Wire.post(other.baseUrl() + "/v1/flux-2-max", "k-123", "{\"prompt\": \"a\"}")
                  .status())
          .isEqualTo(200);
      assertThat(
              Wire.post(other.baseUrl() + "/v1/flux-2-max", "test-key", "{\"prompt\": \"a\"}")
                  .status())
          .isEqualTo(403);
    }
  }

  @Test
  void unknownEndpointIs404() {
    Reply reply = submit("flux-2-dev", "{\"prompt\": \"a\"}");

    assertThat(reply.status()).isEqualTo(404);
    assertThat(reply.json().get("detail").asText()).isEqualTo("Not Found");
  }

  @Test
  void submitWithUnknownFieldIs422() {
    JsonNode problem =
        onlyProblem(submit("flux-2-pro", "{\"prompt\": \"a\", \"disable_pup\": true}"));

    assertThat(loc(problem)).containsExactly("body", "disable_pup");
    assertThat(problem.get("type").asText()).isEqualTo("extra_forbidden");
    assertThat(problem.get("msg").asText()).isEqualTo("Extra inputs are not permitted");
    assertThat(fake.validationErrors().get(0))
        .isEqualTo(
            new ValidationError(
                "/v1/flux-2-pro",
                List.of("body", "disable_pup"),
                "Extra inputs are not permitted",
                "extra_forbidden"));
  }

  @Test
  void floatWhereAnIntegerIsRequiredIs422() {
    JsonNode problem = onlyProblem(submit("flux-2-klein-4b", "{\"prompt\": \"a\", \"seed\": 5.0}"));

    assertThat(loc(problem)).containsExactly("body", "seed");
    assertThat(problem.get("type").asText()).isEqualTo("int_type");
    assertThat(problem.get("msg").asText())
        .isEqualTo("Input should be a valid integer, got the float 5.0");
    assertThat(problem.get("input").asDouble()).isEqualTo(5.0);
  }

  @Test
  void fractionalWidthIs422() {
    JsonNode problem = onlyProblem(submit("flux-2-pro", "{\"prompt\": \"a\", \"width\": 1024.5}"));

    assertThat(loc(problem)).containsExactly("body", "width");
    assertThat(problem.get("type").asText()).isEqualTo("int_from_float");
  }

  @Test
  void stepsOnKleinIs422() {
    JsonNode problem = onlyProblem(submit("flux-2-klein-9b", "{\"prompt\": \"a\", \"steps\": 20}"));

    assertThat(loc(problem)).containsExactly("body", "steps");
    assertThat(problem.get("type").asText()).isEqualTo("extra_forbidden");
  }

  @Test
  void fifthInputImageOnKleinIs422() {
    String png = Wire.base64Png(8, 8);
    String images =
        "\"input_image\": \"%1$s\", \"input_image_2\": \"%1$s\", \"input_image_3\": \"%1$s\", "
            + "\"input_image_4\": \"%1$s\", \"input_image_5\": \"%1$s\"";
    JsonNode problem =
        onlyProblem(
            submit("flux-2-klein-4b", "{\"prompt\": \"a\", " + images.formatted(png) + "}"));

    assertThat(loc(problem)).containsExactly("body", "input_image_5");
    assertThat(problem.get("type").asText()).isEqualTo("extra_forbidden");
  }

  @Test
  void eightInputImagesOnMaxAreAccepted() {
    StringBuilder json =
        new StringBuilder("{\"prompt\": \"a\", \"input_image\": \"https://example.com/1.png\"");
    for (int i = 2; i <= 8; i++)
      json.append(", \"input_image_")
          .append(i)
          .append("\": \"")
          .append(Wire.base64Png(8, 8))
          .append('"');
    Reply reply = submit("flux-2-max", json.append('}').toString());

    assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    assertThat(reply.json().get("input_mp").asInt()).isEqualTo(8);
    assertThat(reply.json().get("cost").asDouble()).isEqualTo(7 + 8 * 3);
  }

  @Test
  void widthNotAMultipleOf16Is422() {
    JsonNode problem =
        onlyProblem(submit("flux-2-pro", "{\"prompt\": \"a\", \"width\": 1000, \"height\": 1024}"));

    assertThat(loc(problem)).containsExactly("body", "width");
    assertThat(problem.get("type").asText()).isEqualTo("value_error");
    assertThat(problem.get("msg").asText())
        .isEqualTo(
            "Value error, width must be a multiple of 16, got 1000; the nearest allowed values are 992 and 1008");
  }

  @Test
  void widthBelow64Is422() {
    JsonNode problem = onlyProblem(submit("flux-2-pro", "{\"prompt\": \"a\", \"width\": 32}"));

    assertThat(loc(problem)).containsExactly("body", "width");
    assertThat(problem.get("type").asText()).isEqualTo("greater_than_equal");
    assertThat(problem.get("msg").asText())
        .isEqualTo("Input should be greater than or equal to 64");
  }

  @Test
  void zeroSizeLetsTheModelChoose() {
    Reply reply = submit("flux-2-pro", "{\"prompt\": \"a\", \"width\": 0, \"height\": 0}");

    assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    assertThat(reply.json().get("output_mp").asInt()).isEqualTo(1);
  }

  @Test
  void moreThanFourMegapixelsIs422() {
    JsonNode problem =
        onlyProblem(submit("flux-2-max", "{\"prompt\": \"a\", \"width\": 2064, \"height\": 2048}"));

    assertThat(loc(problem)).containsExactly("body");
    assertThat(problem.get("msg").asText()).contains("at most 4 MP", "2064 × 2048 = 4227072");
  }

  @Test
  void dataUriPrefixIs422() {
    String image = "data:image/png;base64," + Wire.base64Png(8, 8);
    JsonNode problem =
        onlyProblem(
            submit("flux-2-pro", "{\"prompt\": \"a\", \"input_image\": \"" + image + "\"}"));

    assertThat(loc(problem)).containsExactly("body", "input_image");
    assertThat(problem.get("msg").asText())
        .isEqualTo(
            "Value error, input_image must be an http(s) URL or raw base64 without a data: prefix; remove \"data:image/png;base64,\"");
  }

  @Test
  void base64ThatIsNotAnImageIs422() {
    JsonNode problem =
        onlyProblem(
            submit("flux-2-pro", "{\"prompt\": \"a\", \"input_image_2\": \"aGVsbG8gd29ybGQ=\"}"));

    assertThat(loc(problem)).containsExactly("body", "input_image_2");
    assertThat(problem.get("msg").asText()).contains("PNG, JPEG or WebP", "68 65 6c 6c 6f");
  }

  @Test
  void textThatIsNeitherUrlNorBase64Is422() {
    JsonNode problem =
        onlyProblem(submit("flux-2-pro", "{\"prompt\": \"a\", \"input_image\": \"/tmp/cat.png\"}"));

    assertThat(problem.get("msg").asText()).contains("http(s) URL or raw base64", "/tmp/cat.png");
  }

  @Test
  void missingPromptIs422() {
    JsonNode problem = onlyProblem(submit("flux-2-flex", "{\"steps\": 20}"));

    assertThat(loc(problem)).containsExactly("body", "prompt");
    assertThat(problem.get("type").asText()).isEqualTo("missing");
    assertThat(problem.get("msg").asText()).isEqualTo("Field required");
  }

  @Test
  void outputFormatOutsideTheEnumIs422() {
    JsonNode problem =
        onlyProblem(submit("flux-2-pro", "{\"prompt\": \"a\", \"output_format\": \"gif\"}"));

    assertThat(loc(problem)).containsExactly("body", "output_format");
    assertThat(problem.get("type").asText()).isEqualTo("enum");
    assertThat(problem.get("msg").asText()).isEqualTo("Input should be 'jpeg', 'png' or 'webp'");
  }

  @Test
  void safetyToleranceAboveFiveIs422() {
    JsonNode problem =
        onlyProblem(submit("flux-2-pro", "{\"prompt\": \"a\", \"safety_tolerance\": 6}"));

    assertThat(problem.get("msg").asText()).isEqualTo("Input should be less than or equal to 5");
  }

  @Test
  void everyProblemGetsItsOwnEntry() {
    Reply reply = submit("flux-2-klein-4b", "{\"prompt\": 5, \"steps\": 3, \"width\": 1000}");

    assertThat(reply.status()).isEqualTo(422);
    assertThat(reply.json().get("detail"))
        .extracting(p -> p.get("loc").get(1).asText())
        .containsExactly("prompt", "steps", "width");
    assertThat(fake.validationErrors()).hasSize(3);
  }

  @Test
  void malformedJsonIs422() {
    JsonNode problem = onlyProblem(submit("flux-2-pro", "{\"prompt\": "));

    assertThat(problem.get("type").asText()).isEqualTo("json_invalid");
    assertThat(problem.get("loc").get(0).asText()).isEqualTo("body");
  }

  @Test
  void validFlexRequestWithStepsGuidanceAndReferencesIsAccepted() {
    String json =
        """
        {"prompt": "a lighthouse", "steps": 28, "guidance": 4.5, "prompt_upsampling": false, "seed": 42,
         "width": 1344, "height": 768, "safety_tolerance": 2, "output_format": "png",
         "input_image": "%s", "input_image_2": "https://example.com/ref.jpg", "webhook_secret": null}
        """
            .formatted(Wire.base64Png(16, 16));
    Reply reply = submit("flux-2-flex", json);

    assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    assertThat(reply.json().get("input_mp").asInt()).isEqualTo(2);
    assertThat(reply.json().get("cost").asDouble()).isEqualTo(5 + 2 * 5);
    assertThat(fake.validationErrors()).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({
    "flux-2-klein-4b, 1024, 1024, 1.4",
    "flux-2-klein-4b, 2048, 2048, 1.7",
    "flux-2-klein-9b, 1024, 1024, 1.5",
    "flux-2-klein-9b-preview, 1344, 768, 1.5",
    "flux-2-pro, 1024, 1024, 3.0",
    "flux-2-pro-preview, 1024, 1040, 4.5",
    "flux-2-max, 2048, 2048, 16.0",
    "flux-2-flex, 0, 0, 5.0",
  })
  void costFollowsThePriceTable(String endpoint, int width, int height, double cost) {
    Reply reply =
        submit(
            endpoint,
            "{\"prompt\": \"a\", \"width\": %d, \"height\": %d}".formatted(width, height));

    assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    assertThat(reply.json().get("cost").asDouble()).isEqualTo(cost);
  }

  @Test
  void inputImagesAreBilledPerMegapixelRoundedUp() {
    String json =
        "{\"prompt\": \"a\", \"input_image\": \"%s\"}".formatted(Wire.base64Png(1040, 1024));
    Reply reply = submit("flux-2-klein-4b", json);

    assertThat(reply.json().get("input_mp").asInt()).isEqualTo(2);
    assertThat(reply.json().get("cost").asDouble()).isEqualTo(1.6);
  }

  @Test
  void scenarioCostOverridesThePriceTable() {
    fake.enqueue(Scenario.ready().withCost(0.25));

    assertThat(submit("flux-2-max", "{\"prompt\": \"a\"}").json().get("cost").asDouble())
        .isEqualTo(0.25);
  }

  @Test
  void creditsReportTheBalanceThatSubmitsSpend() {
    fake.setCredits(10);
    assertThat(
            Wire.get(fake.baseUrl() + "/v1/credits", fake.key()).json().get("credits").asDouble())
        .isEqualTo(10.0);

    submit("flux-2-pro", "{\"prompt\": \"a\"}");

    assertThat(
            Wire.get(fake.baseUrl() + "/v1/credits", fake.key()).json().get("credits").asDouble())
        .isEqualTo(7.0);
    assertThat(Wire.get(fake.baseUrl() + "/v1/credits", null).status()).isEqualTo(403);
  }

  @Test
  void submitBeyondTheBalanceIs402() {
    fake.setCredits(2);
    Reply reply = submit("flux-2-pro", "{\"prompt\": \"a\"}");

    assertThat(reply.status()).isEqualTo(402);
    assertThat(reply.json().get("detail").asText()).contains("costs 3 credits", "balance is 2");
    assertThat(fake.activeTasks()).isZero();
  }

  @Test
  void webhookSubmitAnswersWithoutPollingUrl() {
    JsonNode json =
        submit("flux-2-pro", "{\"prompt\": \"a\", \"webhook_url\": \"https://bot.example/hook\"}")
            .json();

    assertThat(json.has("polling_url")).isFalse();
    assertThat(json.get("status").asText()).isEqualTo("Pending");
    assertThat(json.get("webhook_url").asText()).isEqualTo("https://bot.example/hook");
  }

  @Test
  void takeSubmitReturnsWhatTheClientSent() {
    submit("flux-2-klein-4b", "{\"prompt\": \"first\"}");
    submit("flux-2-flex", "{\"prompt\": \"second\", \"steps\": 50}");

    RecordedSubmit first = fake.takeSubmit();
    RecordedSubmit second = fake.takeSubmit();
    assertThat(first.endpoint()).isEqualTo("flux-2-klein-4b");
    assertThat(first.body().get("prompt").asText()).isEqualTo("first");
    assertThat(first.header("X-KEY")).contains("test-key");
    assertThat(first.header("content-type")).contains("application/json");
    assertThat(second.endpoint()).isEqualTo("flux-2-flex");
    assertThat(second.body().get("steps").asInt()).isEqualTo(50);
    assertThat(fake.submits()).containsExactly(first, second);
  }

  @Test
  void nonJsonContentTypeIs422() {
    Reply reply =
        Wire.post(
            fake.baseUrl() + "/v1/flux-2-pro", fake.key(), "text/plain", "{\"prompt\": \"a\"}");

    JsonNode problem = onlyProblem(reply);
    assertThat(loc(problem)).containsExactly("body");
    assertThat(problem.get("type").asText()).isEqualTo("model_attributes_type");
  }
}
