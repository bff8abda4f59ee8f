package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fluxbot run} as a real process. */
class RunProcessTest {
  @TempDir Path dir;

  private ProcessBuilder fluxbot(Map<String, String> env, String... args) {
    return FluxbotProcess.builder(dir, env, args);
  }

  @Test
  void withoutAnyPlatformItSaysWhatToSetAndExits() throws Exception {
    Path err = dir.resolve("err.txt");
    Process p =
        fluxbot(Map.of(), "run")
            .redirectErrorStream(false)
            .redirectError(err.toFile())
            .redirectOutput(dir.resolve("out.txt").toFile())
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(Files.readString(err))
        .contains("no chat platform is configured")
        .contains("FLUXBOT_DISCORD_TOKEN");
    assertThat(dir.resolve("data/fluxbot.db"))
        .as("the embedded database is created on first run")
        .exists();
  }

  @Test
  void withoutAnyBackendItRefusesToStartInsteadOfFailingEveryImagine() throws Exception {
    Path err = dir.resolve("err.txt");
    Process p =
        fluxbot(Map.of("FLUXBOT_TELEGRAM_TOKEN", "123:not-used"), "run")
            .redirectError(err.toFile())
            .redirectOutput(dir.resolve("out.txt").toFile())
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(Files.readString(err))
        .doesNotContain("Exception")
        .contains(
            "fluxbot: no backend can make images: set BFL_API_KEY (create a key at"
                + " https://dashboard.bfl.ai, API keys) or bfl.api_key_file in fluxbot.yaml, or"
                + " configure a local klein worker (the local: section; see docs/local-klein.md)");
  }
}
