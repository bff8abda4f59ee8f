package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.testkit.FakeChatCompletions;
import dev.fluxbot.testkit.junit.FakeChatCompletionsExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code enhance:}: its checks, and {@code fluxbot doctor}'s one line about the endpoint. */
class EnhanceDoctorTest {
  private static final String KEY = "sk-doctor-enhance";

  @RegisterExtension
  final FakeChatCompletionsExtension fake =
      new FakeChatCompletionsExtension(b -> b.key(KEY).model("llama3.2:3b"));

  private final FakeChatCompletions llm = fake.get();

  @TempDir Path dir;

  private String doctor(String enhance, Map<String, String> extraEnv) throws Exception {
    Path config =
        Files.writeString(
            dir.resolve("fluxbot.yaml"), "storage:\n  data_dir: data\nenhance:\n" + enhance);
    Map<String, String> env = new HashMap<>(Map.of("BFL_API_KEY", "bfl-test-key"));
    env.putAll(extraEnv);
    StringWriter out = new StringWriter();
    Main.run(
        new String[] {"doctor", "--config=" + config},
        new Environment(env),
        new PrintWriter(out, true),
        new PrintWriter(new StringWriter(), true));
    return out.toString();
  }

  private String enhanceLine(String output) {
    return output.lines().filter(l -> l.contains("enhance:")).findFirst().orElseThrow();
  }

  @Test
  void doctorSaysTheEndpointAnswersWithTheKeyAndListsTheModel() throws Exception {
    String url = "  base_url: " + llm.baseUrl() + "\n  model: llama3.2:3b\n";
    assertThat(enhanceLine(doctor(url, Map.of("FLUXBOT_ENHANCE_API_KEY", KEY))))
        .isEqualTo(
            "ok    enhance: "
                + llm.baseUrl()
                + " answers, key from FLUXBOT_ENHANCE_API_KEY; model llama3.2:3b");
    assertThat(llm.calls().get(0).authorization()).isEqualTo("Bearer " + KEY);

    String wrong = doctor(url, Map.of("FLUXBOT_ENHANCE_API_KEY", "sk-wrong"));
    assertThat(enhanceLine(wrong))
        .startsWith("FAIL  enhance: " + llm.baseUrl() + " refuses the key (HTTP 401")
        .doesNotContain("sk-wrong");

    String other = "  base_url: " + llm.baseUrl() + "\n  model: llama3.1:8b\n";
    assertThat(enhanceLine(doctor(other, Map.of("FLUXBOT_ENHANCE_API_KEY", KEY))))
        .startsWith("--    enhance: ")
        .endsWith("model llama3.1:8b is not among the models it lists (check enhance.model)");
  }

  @Test
  void doctorSaysWhenTheEndpointCannotBeReached() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String out = doctor("  base_url: http://127.0.0.1:" + port + "/v1\n  model: m\n", Map.of());
    assertThat(enhanceLine(out))
        .startsWith("FAIL  enhance: http://127.0.0.1:" + port + "/v1 cannot be reached (")
        .endsWith("); --enhance falls back to the prompt as typed until it can");
  }

  @Test
  void badSettingsNameTheFieldTheRuleAndTheValue() {
    assertThatThrownBy(() -> new EnhanceSettings("ftp://x/v1", "m", null, null, null, null, null))
        .hasMessageStartingWith("enhance.base_url: must be an http:// or https:// URL");
    assertThatThrownBy(
            () ->
                new EnhanceSettings(
                    "http://localhost:11434/v1", null, null, null, null, null, null))
        .hasMessageStartingWith("enhance.model: must be set when enhance.base_url is");
    assertThatThrownBy(() -> new EnhanceSettings(null, null, null, null, null, null, true))
        .hasMessageStartingWith("enhance.on_by_default: needs enhance.base_url");
    assertThatThrownBy(
            () -> new EnhanceSettings("http://h/v1", "m", "sk-live-1234", null, null, null, null))
        .hasMessageStartingWith("enhance.api_key_env: must be the NAME of an environment variable")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("sk-live-1234"));
    assertThatThrownBy(() -> new EnhanceSettings("http://h/v1", "m", null, "5m", null, null, null))
        .hasMessageStartingWith("enhance.timeout: must be at most 120s");
    assertThatThrownBy(() -> new EnhanceSettings("http://h/v1", "m", null, null, null, 10, null))
        .hasMessage("enhance.max_prompt_chars: must be from 50 to 10000; got 10");
    assertThat(EnhanceSettings.DEFAULTS.enabled()).isFalse();
  }
}
