package dev.fluxbot.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.app.FluxbotConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The archive's {@code fluxbot.example.yaml} loads through the real config loader. */
class SampleConfigTest {
  @Test
  void theSampleIsValidAndEverySettingIsItsDefault() {
    Path sample = Processes.root().resolve("packaging/fluxbot.example.yaml");

    assertThat(FluxbotConfig.load(sample)).isEqualTo(FluxbotConfig.DEFAULTS);
  }
}
