package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.enhance.EnhanceException;
import dev.fluxbot.testkit.FakeChatCompletions;
import dev.fluxbot.testkit.FakeChatCompletions.Behaviour;
import dev.fluxbot.testkit.junit.FakeChatCompletionsExtension;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** LangChain4j's OpenAI client against the fake chat-completions endpoint, over real sockets. */
class OpenAiPromptEnhancerTest {
  private static final String KEY = "sk-enhance-secret-4711";

  @RegisterExtension
  final FakeChatCompletionsExtension fake =
      new FakeChatCompletionsExtension(b -> b.key(KEY).model("llama3.2:3b"));

  private final FakeChatCompletions llm = fake.get();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

  @BeforeEach
  void captureLogs() {
    logs.start();
    root.addAppender(logs);
  }

  @AfterEach
  void noKeyInTheLogs() {
    root.detachAppender(logs);
    assertThat(logs.list).allSatisfy(e -> assertThat(e.getFormattedMessage()).doesNotContain(KEY));
  }

  private OpenAiPromptEnhancer enhancer(String baseUrl, String key, Duration timeout) {
    return new OpenAiPromptEnhancer(
        baseUrl,
        "llama3.2:3b",
        key == null ? null : Secret.of(key),
        timeout,
        OpenAiPromptEnhancer.DEFAULT_SYSTEM_PROMPT);
  }

  private OpenAiPromptEnhancer enhancer() {
    return enhancer(llm.baseUrl(), KEY, Duration.ofSeconds(5));
  }

  @Test
  void sendsTheModelTheSystemPromptAndThePromptWithTheKeyAndReturnsTheAnswer() throws Exception {
    llm.behave(Behaviour.answer("a red fox in deep snow at golden hour, 85 mm, shallow focus"));

    String enhanced = enhancer().enhance("a red fox in snow");

    assertThat(enhanced).isEqualTo("a red fox in deep snow at golden hour, 85 mm, shallow focus");
    assertThat(llm.completions()).hasSize(1);
    FakeChatCompletions.Call call = llm.completions().get(0);
    assertThat(call.authorization()).isEqualTo("Bearer " + KEY);
    JsonNode body = call.json();
    assertThat(body.path("model").asText()).isEqualTo("llama3.2:3b");
    assertThat(body.path("messages").get(0).path("role").asText()).isEqualTo("system");
    assertThat(body.path("messages").get(0).path("content").asText())
        .isEqualTo(OpenAiPromptEnhancer.DEFAULT_SYSTEM_PROMPT);
    assertThat(call.userContent()).isEqualTo("a red fox in snow");
  }

  @Test
  void anEndpointThatIsDownIsOneLineNamingIt() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String down = "http://127.0.0.1:" + port + "/v1";
    assertThatThrownBy(() -> enhancer(down, KEY, Duration.ofSeconds(5)).enhance("a fox"))
        .isInstanceOf(EnhanceException.class)
        .hasMessage("the enhancer at " + down + " cannot be reached");
  }

  @Test
  void aSlowEndpointTimesOutWithinItsTimeout() {
    llm.behave(Behaviour.answer("late").slow(Duration.ofSeconds(5)));
    long start = System.nanoTime();
    assertThatThrownBy(() -> enhancer(llm.baseUrl(), KEY, Duration.ofSeconds(1)).enhance("a fox"))
        .isInstanceOf(EnhanceException.class)
        .hasMessage("the enhancer did not answer within 1.0 s");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
  }

  @Test
  void anEmptyAnswerComesBackEmpty() throws Exception {
    llm.behave(Behaviour.empty());
    assertThat(enhancer().enhance("a fox")).isEmpty(); // the core refuses it (PromptEnhancing)
  }

  @Test
  void aWrongKeyIsOneClearLineWithoutTheKey() {
    OpenAiPromptEnhancer wrong = enhancer(llm.baseUrl(), "sk-wrong-0000", Duration.ofSeconds(5));
    assertThatThrownBy(() -> wrong.enhance("a fox"))
        .isInstanceOf(EnhanceException.class)
        .hasMessage(
            "the enhancer refused the API key (HTTP 401); the operator should check"
                + " FLUXBOT_ENHANCE_API_KEY")
        .hasNoCause()
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("sk-wrong").doesNotContain(KEY));
    assertThat(llm.completions().get(0).authorization()).isEqualTo("Bearer sk-wrong-0000");
  }

  @Test
  void anErrorStatusAndAnAnswerThatIsNotJsonAreOneLineEach() {
    llm.behave(Behaviour.status(500));
    assertThatThrownBy(() -> enhancer().enhance("a fox"))
        .isInstanceOf(EnhanceException.class)
        .hasMessage("the enhancer answered HTTP 500");
    llm.behave(Behaviour.notJson());
    assertThatThrownBy(() -> enhancer().enhance("a fox"))
        .isInstanceOf(EnhanceException.class)
        .hasMessage("the enhancer's answer was not a chat completion");
  }

  @Test
  void itsIdentityNamesEndpointModelAndSystemPromptButNeverTheKey() {
    assertThat(enhancer().identity())
        .contains(llm.baseUrl())
        .contains("llama3.2:3b")
        .doesNotContain(KEY);
  }
}
