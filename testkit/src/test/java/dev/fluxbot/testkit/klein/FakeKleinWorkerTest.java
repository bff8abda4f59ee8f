package dev.fluxbot.testkit.klein;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.testkit.FakeKleinWorker;
import dev.fluxbot.testkit.KleinScenario;
import dev.fluxbot.testkit.TestImages;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The fake klein worker on the wire: protocol v1 as {@code runtime-local/README.md} states it. */
class FakeKleinWorkerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final FakeKleinWorker worker = FakeKleinWorker.builder().maxReferences(2).start();
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    worker.close();
  }

  record Answer(int status, String contentType, List<JsonNode> lines) {}

  private Answer post(String body) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(worker.baseUrl() + "/v1/generate"))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    List<JsonNode> lines = new ArrayList<>();
    for (String line : r.body().split("\n")) {
      if (!line.isBlank()) {
        lines.add(JSON.readTree(line));
      }
    }
    return new Answer(r.statusCode(), r.headers().firstValue("content-type").orElse(""), lines);
  }

  private static ObjectNode request() {
    return JSON.createObjectNode()
        .put("prompt", "a red fox")
        .put("width", 512)
        .put("height", 768)
        .put("seed", 42);
  }

  @Test
  void healthReportsTheScriptedState() throws Exception {
    worker.setQueue(3, 1);
    HttpResponse<String> ok =
        http.send(
            HttpRequest.newBuilder(URI.create(worker.baseUrl() + "/v1/health")).build(),
            HttpResponse.BodyHandlers.ofString());
    JsonNode h = JSON.readTree(ok.body());
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(h.get("status").asText()).isEqualTo("ok");
    assertThat(h.get("protocol").asInt()).isEqualTo(1);
    assertThat(h.get("model").asText()).isEqualTo("klein-4b");
    assertThat(h.get("variant").asText()).isEqualTo("distilled");
    assertThat(h.get("queue").get("waiting").asInt()).isEqualTo(3);
    assertThat(h.get("queue").get("running").asInt()).isEqualTo(1);
    assertThat(h.get("max_references").asInt()).isEqualTo(2);
    assertThat(h.get("memory").has("allocated_bytes")).isTrue();

    worker.setStatus("loading");
    HttpResponse<String> loading =
        http.send(
            HttpRequest.newBuilder(URI.create(worker.baseUrl() + "/v1/health")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(loading.statusCode()).isEqualTo(503);
    assertThat(JSON.readTree(loading.body()).get("status").asText()).isEqualTo("loading");
    assertThat(post(request().toString()).status())
        .as("generates are refused while loading")
        .isEqualTo(503);
  }

  @Test
  void aValidRequestStreamsEveryEventAndAnImageOfTheRequestedSize() throws Exception {
    Answer a = post(request().put("output_format", "jpeg").put("steps", 3).toString());

    assertThat(a.status()).isEqualTo(200);
    assertThat(a.contentType()).isEqualTo("application/x-ndjson");
    assertThat(a.lines())
        .extracting(l -> l.get("event").asText())
        .containsExactly("queued", "started", "progress", "progress", "progress", "image");
    JsonNode image = a.lines().get(5);
    assertThat(image.get("format").asText()).isEqualTo("jpeg");
    BufferedImage decoded =
        ImageIO.read(
            new ByteArrayInputStream(Base64.getDecoder().decode(image.get("data").asText())));
    assertThat(decoded.getWidth()).isEqualTo(512);
    assertThat(decoded.getHeight()).isEqualTo(768);
    assertThat(image.get("seed").asLong()).isEqualTo(42);
    assertThat(worker.takeGenerate().body().get("steps").asInt()).isEqualTo(3);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"prompt\":\"\",\"width\":512,\"height\":512,\"seed\":1}        | invalid_request | prompt",
        "{\"prompt\":\"x\",\"width\":500,\"height\":512,\"seed\":1}       | invalid_request | width",
        "{\"prompt\":\"x\",\"width\":512,\"height\":4096,\"seed\":1}      | invalid_request | height",
        "{\"prompt\":\"x\",\"width\":2048,\"height\":2048,\"seed\":1}     | ok              | ",
        "{\"prompt\":\"x\",\"width\":2048,\"height\":2064,\"seed\":1}     | invalid_request | height",
        "{\"prompt\":\"x\",\"width\":512,\"height\":512,\"seed\":4294967296} | invalid_request | seed",
        "{\"prompt\":\"x\",\"width\":512,\"height\":512,\"seed\":-1}      | invalid_request | seed",
        "{\"prompt\":\"x\",\"width\":512,\"height\":512,\"seed\":1,\"steps\":0} | invalid_request | steps",
        "{\"prompt\":\"x\",\"width\":512,\"height\":512,\"seed\":1,\"guidance\":21} | invalid_request | guidance",
        "{\"prompt\":\"x\",\"width\":512,\"height\":512,\"seed\":1,\"output_format\":\"gif\"} | invalid_request | output_format",
        "{\"prompt\":\"x\",\"width\":512,\"height\":512,\"seed\":1,\"extra\":1} | invalid_request | extra"
      })
  void brokenRulesAreAnsweredAtOnceWithOneErrorLine(String body, String code, String field)
      throws Exception {
    Answer a = post(body);
    if (code.equals("ok")) {
      assertThat(a.status()).isEqualTo(200);
      return;
    }
    assertThat(a.status()).isEqualTo(400);
    assertThat(a.lines())
        .singleElement()
        .satisfies(
            l -> {
              assertThat(l.get("event").asText()).isEqualTo("error");
              assertThat(l.get("code").asText()).isEqualTo(code);
              assertThat(l.get("field").asText()).isEqualTo(field);
              assertThat(l.get("message").asText()).startsWith(field + ": ");
            });
  }

  @Test
  void referencesAreCountedAndDecoded() throws Exception {
    String png =
        Base64.getEncoder().encodeToString(TestImages.solidPng(16, 16, java.awt.Color.RED));
    ObjectNode three = request();
    for (int i = 0; i < 3; i++) {
      three.withArray("references").addObject().put("data", png);
    }
    assertThat(post(three.toString()).lines().get(0).get("code").asText())
        .isEqualTo("too_many_references");

    ObjectNode broken = request();
    broken.withArray("references").addObject().put("data", png);
    broken
        .withArray("references")
        .addObject()
        .put("data", Base64.getEncoder().encodeToString(new byte[] {1, 2, 3}));
    JsonNode error = post(broken.toString()).lines().get(0);
    assertThat(error.get("code").asText()).isEqualTo("bad_image");
    assertThat(error.get("field").asText()).isEqualTo("references[1]");

    String longPrompt = "word ".repeat(600);
    assertThat(
            post(request().put("prompt", longPrompt).toString())
                .lines()
                .get(0)
                .get("code")
                .asText())
        .isEqualTo("prompt_too_long");
  }

  @Test
  void scriptedErrorsRefusalsAndDeath() throws Exception {
    worker.enqueue(
        KleinScenario.error(2, "out_of_memory", "CUDA out of memory"),
        KleinScenario.refuse("busy", "queue full"),
        KleinScenario.dieAfterStep(1));

    Answer oom = post(request().toString());
    assertThat(oom.status()).isEqualTo(200);
    assertThat(oom.lines())
        .extracting(l -> l.get("event").asText())
        .containsExactly("queued", "started", "progress", "progress", "error");
    assertThat(post(request().toString()).status()).isEqualTo(503);
    Assertions.assertThatThrownBy(() -> post(request().toString())).isInstanceOf(IOException.class);
    Assertions.assertThatThrownBy(() -> post(request().toString()))
        .isInstanceOf(ConnectException.class);
    worker.acceptConnections();
    assertThat(post(request().toString()).status())
        .as("listening again on the same port")
        .isEqualTo(200);
    assertThat(worker.generates())
        .extracting(FakeKleinWorker.RecordedGenerate::outcome)
        .containsExactly("error", "busy", "die", "succeed");
  }
}
