package dev.fluxbot.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.Wire.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FakeBflApiPollingTest {
  private final MutableClock clock = new MutableClock();
  private FakeBflApi fake;

  @BeforeEach
  void start() {
    fake = FakeBflApi.builder().clock(clock).start();
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  private Reply submit(String json) {
    return Wire.post(fake.baseUrl() + "/v1/flux-2-pro", fake.key(), json);
  }

  private String submitForPollingUrl() {
    Reply reply = submit("{\"prompt\": \"a red fox\"}");
    assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    return reply.json().get("polling_url").asText();
  }

  private JsonNode poll(String pollingUrl) {
    Reply reply = Wire.get(pollingUrl, fake.key());
    assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    return reply.json();
  }

  private List<String> statuses(String pollingUrl, int polls) {
    List<String> statuses = new ArrayList<>();
    for (int i = 0; i < polls; i++) statuses.add(poll(pollingUrl).get("status").asText());
    return statuses;
  }

  @Test
  void defaultScenarioWalksPendingGeneratingReadyThenStaysReady() {
    String url = submitForPollingUrl();

    assertThat(statuses(url, 5))
        .containsExactly("Pending", "Generating", "Ready", "Ready", "Ready");
  }

  @Test
  void pollAnswersEveryDocumentedField() {
    JsonNode first = poll(submitForPollingUrl());

    assertThat(first.fieldNames())
        .toIterable()
        .containsExactly("id", "status", "result", "progress", "details", "preview");
    assertThat(first.get("result").isNull()).isTrue();
  }

  @Test
  void scriptedWalkReportsProgressOnInProgressStatuses() {
    fake.enqueue(Scenario.statuses("Pending", "Reasoning", "Generating", "Ready"));
    String url = submitForPollingUrl();

    List<JsonNode> polls = List.of(poll(url), poll(url), poll(url), poll(url));

    assertThat(polls)
        .extracting(p -> p.get("status").asText())
        .containsExactly("Pending", "Reasoning", "Generating", "Ready");
    assertThat(polls)
        .extracting(p -> p.get("progress").isNull() ? null : p.get("progress").asDouble())
        .containsExactly(0.0, 0.33, 0.67, null);
  }

  @Test
  void readyResultCarriesSampleSeedPromptAndTimes() {
    String url =
        Wire.post(
                fake.baseUrl() + "/v1/flux-2-klein-4b",
                fake.key(),
                "{\"prompt\": \"a red fox\", \"seed\": 42}")
            .json()
            .get("polling_url")
            .asText();
    poll(url);
    clock.advance(Duration.ofMillis(2500));
    poll(url);

    JsonNode result = poll(url).get("result");

    assertThat(result.get("sample").asText())
        .startsWith(fake.deliveryBaseUrl() + "/results/")
        .contains("/sample.jpeg?exp=");
    assertThat(result.get("seed").asLong()).isEqualTo(42);
    assertThat(result.get("prompt").asText()).isEqualTo("a red fox");
    assertThat(result.get("start_time").asDouble())
        .isEqualTo(MutableClock.DEFAULT_START.getEpochSecond());
    assertThat(result.get("end_time").asDouble())
        .isEqualTo(MutableClock.DEFAULT_START.getEpochSecond() + 2.5);
    assertThat(result.get("duration").asDouble()).isEqualTo(2.5);
    assertThat(poll(url).get("result")).isEqualTo(result);
  }

  @Test
  void scenarioSeedIsReportedWhenTheRequestHasNone() {
    fake.enqueue(Scenario.statuses("Ready").withSeed(7), Scenario.statuses("Ready").withSeed(7));
    String withoutSeed = submitForPollingUrl();
    String withSeed =
        submit("{\"prompt\": \"a\", \"seed\": 99}").json().get("polling_url").asText();

    assertThat(poll(withoutSeed).get("result").get("seed").asLong()).isEqualTo(7);
    assertThat(poll(withSeed).get("result").get("seed").asLong()).isEqualTo(99);
  }

  @Test
  void getResultOnTheApiHostIs404() {
    String id = submit("{\"prompt\": \"a\"}").json().get("id").asText();

    Reply reply = Wire.get(fake.baseUrl() + "/v1/get_result?id=" + id, fake.key());

    assertThat(reply.status()).isEqualTo(404);
    assertThat(reply.json().get("detail").asText()).isEqualTo("Not Found");
  }

  @Test
  void unknownIdOnThePollingHostSaysTaskNotFound() {
    JsonNode json = poll(fake.pollingBaseUrl() + "/v1/get_result?id=no-such-task");

    assertThat(json.get("id").asText()).isEqualTo("no-such-task");
    assertThat(json.get("status").asText()).isEqualTo("Task not found");
  }

  @Test
  void pollWithoutKeyIs403() {
    Reply reply = Wire.get(submitForPollingUrl(), null);

    assertThat(reply.status()).isEqualTo(403);
    assertThat(reply.json().get("detail").asText()).isEqualTo("Not authenticated");
  }

  @Test
  void pollWithoutIdIs422() {
    Reply reply = Wire.get(fake.pollingBaseUrl() + "/v1/get_result", fake.key());

    assertThat(reply.status()).isEqualTo(422);
    assertThat(reply.json().get("detail").get(0).get("loc").toString())
        .isEqualTo("[\"query\",\"id\"]");
  }

  @Test
  void requestModeratedAnswersTheFirstPollWithReasons() {
    fake.enqueue(Scenario.moderated("Request Moderated", "Derivative Works Filter"));
    JsonNode json = poll(submitForPollingUrl());

    assertThat(json.get("status").asText()).isEqualTo("Request Moderated");
    assertThat(json.get("details").toString())
        .isEqualTo("{\"Moderation Reasons\":[\"Derivative Works Filter\"]}");
    assertThat(json.get("result").isNull()).isTrue();
  }

  @Test
  void contentModeratedComesAfterGenerationAndIsRefunded() {
    fake.setCredits(10);
    fake.enqueue(Scenario.moderated("Content Moderated", "NSFW", "Public Figure"));
    String url = submitForPollingUrl();
    assertThat(fake.credits()).isEqualTo(7.0);

    assertThat(statuses(url, 3)).containsExactly("Pending", "Generating", "Content Moderated");
    assertThat(poll(url).get("details").get("Moderation Reasons"))
        .extracting(JsonNode::asText)
        .containsExactly("NSFW", "Public Figure");
    assertThat(fake.credits()).isEqualTo(10.0);
  }

  @Test
  void errorScenarioPutsTheMessageInDetails() {
    fake.enqueue(Scenario.error("Upstream model failed"));
    String url = submitForPollingUrl();
    poll(url);

    JsonNode json = poll(url);

    assertThat(json.get("status").asText()).isEqualTo("Error");
    assertThat(json.get("details").get("error").asText()).isEqualTo("Upstream model failed");
  }

  @Test
  void legacyErrorScenarioPutsTheMessageInResult() {
    fake.enqueue(Scenario.legacyError("Old failure"));
    String url = submitForPollingUrl();
    poll(url);

    JsonNode json = poll(url);

    assertThat(json.get("details").isNull()).isTrue();
    assertThat(json.get("result").get("error").asText()).isEqualTo("Old failure");
  }

  @Test
  void taskNotFoundScenarioNeverFindsTheTask() {
    fake.enqueue(Scenario.taskNotFound());
    String url = submitForPollingUrl();

    assertThat(statuses(url, 3)).containsOnly("Task not found");
    assertThat(fake.activeTasks()).isZero();
  }

  @Test
  void neverFinishesStaysPendingAndActive() {
    fake.enqueue(Scenario.neverFinishes());
    String url = submitForPollingUrl();

    assertThat(statuses(url, 4)).containsOnly("Pending");
    assertThat(fake.activeTasks()).isEqualTo(1);
  }

  @Test
  void unknownStatusIsReportedAsScripted() {
    fake.enqueue(Scenario.statuses("Pending", "Upscaling"));
    String url = submitForPollingUrl();

    assertThat(statuses(url, 3)).containsExactly("Pending", "Upscaling", "Upscaling");
    assertThat(fake.activeTasks()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(ints = {400, 401, 402, 403, 500, 503})
  void submitErrorAnswersItsStatusAndDetailWithoutATask(int status) {
    fake.enqueue(Scenario.submitError(status, "scripted failure " + status));

    Reply reply = submit("{\"prompt\": \"a\"}");

    assertThat(reply.status()).isEqualTo(status);
    assertThat(reply.json().get("detail").asText()).isEqualTo("scripted failure " + status);
    assertThat(fake.activeTasks()).isZero();
    assertThat(submit("{\"prompt\": \"a\"}").status()).isEqualTo(200);
  }

  @Test
  void scriptedValidationErrorIs422AndNotAClientMistake() {
    fake.enqueue(Scenario.validationError("prompt", "Prompt is too long"));

    Reply reply = submit("{\"prompt\": \"a\"}");

    assertThat(reply.status()).isEqualTo(422);
    JsonNode problem = reply.json().get("detail").get(0);
    assertThat(problem.get("loc").toString()).isEqualTo("[\"body\",\"prompt\"]");
    assertThat(problem.get("msg").asText()).isEqualTo("Prompt is too long");
    assertThat(fake.validationErrors()).isEmpty();
  }

  @Test
  void rateLimitedIs429WithRetryAfter() {
    fake.enqueue(Scenario.rateLimited(3));

    Reply reply = submit("{\"prompt\": \"a\"}");

    assertThat(reply.status()).isEqualTo(429);
    assertThat(reply.header("Retry-After")).contains("3");
    assertThat(reply.json().get("detail").asText()).isNotBlank();
    assertThat(fake.activeTasks()).isZero();
  }

  @Test
  void pollFailuresComeBeforeTheWalk() {
    fake.enqueue(Scenario.statuses("Pending", "Ready").withPollFailures(503, 2));
    String url = submitForPollingUrl();

    List<Integer> codes = new ArrayList<>();
    for (int i = 0; i < 4; i++) codes.add(Wire.get(url, fake.key()).status());

    assertThat(codes).containsExactly(503, 503, 200, 200);
    assertThat(Wire.get(url, fake.key()).json().get("status").asText()).isEqualTo("Ready");
  }

  @Test
  void pollFailureBodyIsADetail() {
    fake.enqueue(Scenario.ready().withPollFailures(500, 1));

    Reply reply = Wire.get(submitForPollingUrl(), fake.key());

    assertThat(reply.status()).isEqualTo(500);
    assertThat(reply.json().get("detail").asText()).isEqualTo("Internal Server Error");
  }

  @Test
  void scenariosAreTakenInOrder() {
    fake.enqueue(Scenario.submitError(500, "first"), Scenario.rateLimited(1));
    assertThat(fake.queuedScenarios()).isEqualTo(2);

    assertThat(submit("{\"prompt\": \"a\"}").status()).isEqualTo(500);
    assertThat(submit("{\"prompt\": \"a\"}").status()).isEqualTo(429);
    assertThat(submit("{\"prompt\": \"a\"}").status()).isEqualTo(200);
    assertThat(fake.queuedScenarios()).isZero();
  }

  @Test
  void invalidSubmitDoesNotTakeAScenario() {
    fake.enqueue(Scenario.submitError(500, "meant for a valid submit"));

    assertThat(submit("{\"prompt\": \"a\", \"steps\": 3}").status()).isEqualTo(422);
    assertThat(fake.queuedScenarios()).isEqualTo(1);
  }

  @Test
  void everyHostIsRecorded() {
    String url = submitForPollingUrl();
    poll(url);
    poll(url);
    String sample = poll(url).get("result").get("sample").asText();
    Wire.get(sample, null);

    assertThat(fake.requests())
        .extracting(FakeBflApi.RecordedRequest::host)
        .containsExactly(
            FakeBflApi.Host.API,
            FakeBflApi.Host.POLLING,
            FakeBflApi.Host.POLLING,
            FakeBflApi.Host.POLLING,
            FakeBflApi.Host.DELIVERY);
    assertThat(fake.polls()).allSatisfy(p -> assertThat(p.path()).isEqualTo("/v1/get_result"));
    assertThat(fake.polls().get(0).queryParameter("id")).isPresent();
    assertThat(fake.deliveries()).hasSize(1);
  }
}
