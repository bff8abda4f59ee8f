package dev.fluxbot.testkit.bfl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchemaCheckerTest {
  private final SchemaChecker checker = SchemaChecker.forRequests(OpenApi.DOCUMENT);

  private static JsonNode json(String text) {
    try {
      return Json.MAPPER.readTree(text);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private List<Problem> checkFlex(String body) {
    return checker.check(OpenApi.requestSchema("/v1/flux-2-flex"), json(body), List.of("body"));
  }

  private static JsonNode schema(String name) {
    return json("{\"$ref\": \"#/components/schemas/" + name + "\"}");
  }

  @Test
  void acceptsAValidFlexRequestWithStepsAndGuidance() {
    assertThat(
            checkFlex(
                """
        {"prompt": "a lighthouse at dusk", "steps": 50, "guidance": 1.5, "prompt_upsampling": true,
         "seed": null, "width": 1024, "height": 768, "output_format": "webp", "safety_tolerance": 0,
         "webhook_url": "https://bot.example/hook", "input_image_8": null}
        """))
        .isEmpty();
  }

  @Test
  void acceptsAnIntegerWhereANumberIsRequired() {
    assertThat(checkFlex("{\"prompt\": \"a\", \"guidance\": 5}")).isEmpty();
  }

  @Test
  void rejectsStepsAboveTheMaximum() {
    assertThat(checkFlex("{\"prompt\": \"a\", \"steps\": 51}"))
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.loc()).containsExactly("body", "steps");
              assertThat(p.type()).isEqualTo("less_than_equal");
              assertThat(p.msg()).isEqualTo("Input should be less than or equal to 50");
            });
  }

  @Test
  void rejectsGuidanceBelowTheMinimum() {
    assertThat(checkFlex("{\"prompt\": \"a\", \"guidance\": 1.4}"))
        .singleElement()
        .extracting(Problem::msg)
        .isEqualTo("Input should be greater than or equal to 1.5");
  }

  @Test
  void rejectsAStringWhereABooleanIsRequired() {
    assertThat(checkFlex("{\"prompt\": \"a\", \"prompt_upsampling\": \"yes\"}"))
        .singleElement()
        .extracting(Problem::type)
        .isEqualTo("bool_type");
  }

  @Test
  void rejectsNullForARequiredString() {
    assertThat(checkFlex("{\"prompt\": null}"))
        .singleElement()
        .extracting(Problem::type)
        .isEqualTo("string_type");
  }

  @Test
  void rejectsAnEmptyOrRelativeWebhookUrl() {
    assertThat(checkFlex("{\"prompt\": \"a\", \"webhook_url\": \"\"}"))
        .extracting(Problem::type)
        .contains("string_too_short");
    assertThat(checkFlex("{\"prompt\": \"a\", \"webhook_url\": \"/hook\"}"))
        .extracting(Problem::type)
        .containsExactly("url_parsing");
  }

  @Test
  void rejectsABodyThatIsNotAnObject() {
    assertThat(checkFlex("[1, 2]"))
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.loc()).containsExactly("body");
              assertThat(p.type()).isEqualTo("model_attributes_type");
            });
  }

  @Test
  void checksArrayItemsWithTheirIndex() {
    JsonNode error =
        json(
            "{\"detail\": [{\"loc\": [\"body\", 3], \"msg\": \"m\", \"type\": \"t\"}, {\"loc\": [true]}]}");

    assertThat(checker.check(schema("HTTPValidationError"), error, List.of("response")))
        .extracting(Problem::loc)
        .containsExactly(
            List.of("response", "detail", 1, "loc", 0),
            List.of("response", "detail", 1, "msg"),
            List.of("response", "detail", 1, "type"));
  }

  @Test
  void emptySchemaAcceptsAnything() {
    JsonNode result =
        json(
            "{\"id\": \"x\", \"status\": \"Ready\", \"result\": {\"anything\": [1, {\"b\": null}]},"
                + " \"details\": {\"free\": \"form\"}}");

    assertThat(checker.check(schema("ResultResponse"), result, List.of())).isEmpty();
  }

  @Test
  void onlyRequestsForbidUnlistedFields() {
    JsonNode response = json("{\"id\": \"x\", \"polling_url\": \"http://p\", \"region\": \"eu\"}");

    assertThat(
            SchemaChecker.forResponses(OpenApi.DOCUMENT)
                .check(schema("AsyncResponse"), response, List.of()))
        .isEmpty();
    assertThat(checker.check(schema("AsyncResponse"), response, List.of()))
        .singleElement()
        .extracting(Problem::type)
        .isEqualTo("extra_forbidden");
  }

  @Test
  void unsupportedKeywordFailsLoudly() {
    assertThatThrownBy(
            () ->
                checker.check(
                    json("{\"type\": \"string\", \"pattern\": \"^a\"}"), json("\"a\""), List.of()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("\"pattern\"");
  }

  @Test
  void everyFlux2EndpointHasARequestSchema() {
    for (Endpoint endpoint : Endpoint.values()) {
      assertThat(
              checker.check(
                  OpenApi.requestSchema(endpoint.path()),
                  json("{\"prompt\": \"a\"}"),
                  List.of("body")))
          .as(endpoint.slug())
          .isEmpty();
    }
  }
}
