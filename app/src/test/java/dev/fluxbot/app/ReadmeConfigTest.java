package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** README.md's Configuration section shows the built-in defaults: it must load, and be them. */
class ReadmeConfigTest {
  @TempDir
  Path dir;

  @Test
  void theReadmesConfigBlockIsTheDefaults() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    int section = readme.indexOf("\n## Configuration\n");
    assertThat(section).as("README.md has a Configuration section").isPositive();
    int start = readme.indexOf("```yaml\n", section) + "```yaml\n".length();
    int end = readme.indexOf("```", start);
    Path file = Files.writeString(dir.resolve("fluxbot.yaml"), readme.substring(start, end));

    assertThat(FluxbotConfig.load(file)).isEqualTo(FluxbotConfig.DEFAULTS);
  }
}
