package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeChatCompletions;
import dev.fluxbot.testkit.FakeChatCompletions.Behaviour;
import dev.fluxbot.testkit.FakeSlack;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeChatCompletionsExtension;
import dev.fluxbot.testkit.junit.FakeSlackExtension;
import dev.fluxbot.testkit.slack.SlackMessage;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --enhance} end to end: the real app ({@code fluxbot run}, a child process, Bolt) against
 * the fake Slack, the fake BFL API and the fake chat-completions endpoint, configured by {@code
 * enhance:} in fluxbot.yaml and the key in {@code FLUXBOT_ENHANCE_API_KEY}.
 */
class EnhanceSlackRunProcessTest {
  private static final String BFL_KEY = "sk-bfl-enhance";
  private static final String LLM_KEY = "sk-llm-enhance-31337";

  @RegisterExtension
  final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(BFL_KEY));

  @RegisterExtension
  final FakeSlackExtension slackFake =
      new FakeSlackExtension(b -> b.awaitTimeout(Duration.ofSeconds(30)));

  @RegisterExtension
  final FakeChatCompletionsExtension llmFake =
      new FakeChatCompletionsExtension(b -> b.key(LLM_KEY).model("llama3.2:3b"));

  private final FakeBflApi bfl = bflFake.get();
  private final FakeSlack slack = slackFake.get();
  private final FakeChatCompletions llm = llmFake.get();
  private RunningApp app;

  @TempDir Path dir;

  @AfterEach
  void stop() throws Exception {
    if (app != null) {
      app.stop();
    }
    assertThat(log()).as("no key in the log").doesNotContain(LLM_KEY).doesNotContain(BFL_KEY);
  }

  private String log() {
    return RunningApp.read(dir.resolve("app.log"));
  }

  private void startApp(String baseUrl) throws Exception {
    Files.writeString(
        dir.resolve("fluxbot.yaml"),
        "enhance:\n  base_url: " + baseUrl + "\n  model: llama3.2:3b\n  timeout: 3s\n");
    Map<String, String> env =
        new HashMap<>(
            Map.of(
                "BFL_API_KEY", BFL_KEY,
                "FLUXBOT_BFL_BASE_URL", bfl.baseUrl(),
                "FLUXBOT_SLACK_BOT_TOKEN", slack.botToken(),
                "FLUXBOT_SLACK_API_URL", slack.apiUrl(),
                "FLUXBOT_SLACK_APP_TOKEN", slack.appToken(),
                "FLUXBOT_ENHANCE_API_KEY", LLM_KEY));
    int before = slack.socketConnections();
    app =
        RunningApp.start(
            FluxbotProcess.builder(dir, env, "run", "--grace", "5"),
            dir,
            () -> slack.socketConnections() > before);
  }

  private SlackMessage image() {
    try {
      return slack.awaitMessage(m -> m.actionIds().size() == 4);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\nThe app's log:\n" + log(), e);
    }
  }

  @Test
  void theImagesCommentShowsThePromptAsTypedAndTheEnhancedOne() throws Exception {
    llm.behave(Behaviour.answer("a red fox in deep snow at golden hour, 85 mm lens"));
    startApp(llm.baseUrl());
    slack.awaitAck(
        slack.slashCommand(
            FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a red fox --enhance --seed 7"));
    SlackMessage image = image();

    assertThat(image.allText())
        .contains("*a red fox*")
        .contains("✨ Enhanced by llama3.2:3b: a red fox in deep snow at golden hour, 85 mm lens")
        .contains("seed 7");
    assertThat(bfl.submits().get(0).body().path("prompt").asText())
        .isEqualTo("a red fox in deep snow at golden hour, 85 mm lens");
    assertThat(llm.completions()).hasSize(1);
    assertThat(llm.completions().get(0).authorization()).isEqualTo("Bearer " + LLM_KEY);
    assertThat(llm.completions().get(0).userContent()).isEqualTo("a red fox");
    assertThat(
            slack.calls().stream()
                .filter(c -> c.method().startsWith("chat."))
                .map(c -> String.valueOf(c.param("text"))))
        .as("the progress shows the enhancement step")
        .anySatisfy(t -> assertThat(t).contains("Enhancing the prompt"));
  }

  @Test
  void withTheEndpointDownTheImageStillComesWithANote() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    String down = "http://127.0.0.1:" + port + "/v1";
    startApp(down);
    slack.awaitAck(
        slack.slashCommand(
            FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a lighthouse --enhance"));
    SlackMessage image = image();

    assertThat(image.allText())
        .contains("*a lighthouse*")
        .contains(
            "⚠️ Prompt not enhanced (the enhancer at "
                + down
                + " cannot be reached); this image is from your prompt as typed.");
    assertThat(bfl.submits().get(0).body().path("prompt").asText()).isEqualTo("a lighthouse");
    assertThat(log()).contains("prompt enhancement failed: the enhancer at " + down);
  }
}
