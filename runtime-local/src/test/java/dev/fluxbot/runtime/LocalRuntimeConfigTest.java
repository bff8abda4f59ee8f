package dev.fluxbot.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runtime config's rules. */
class LocalRuntimeConfigTest {
  @TempDir Path dir;

  @Test
  void configRulesNameTheFieldAndTheValue() {
    assertThatThrownBy(() -> LocalRuntimeConfig.of(List.of(URI.create("ftp://host/")), null, false))
        .hasMessage(
            "local.workers: must be an http:// URL with a host and no query, e.g. http://127.0.0.1:8188; "
                + "got \"ftp://host/\"");
    assertThatThrownBy(() -> LocalRuntimeConfig.of(List.of(), null, false))
        .hasMessage("local: needs at least one worker URL in workers, or a spawn section");
    assertThatThrownBy(
            () ->
                new LocalRuntimeConfig.Spawn(
                    LocalRuntimeConfig.Spawn.pythonLauncher("python3"),
                    dir,
                    "gpu",
                    "127.0.0.1",
                    8188,
                    Duration.ofMinutes(1),
                    dir))
        .hasMessage("local.spawn.device: must be auto, cpu, cuda, cuda:N or mps; got \"gpu\"");
    LocalRuntimeConfig.Spawn spawn =
        new LocalRuntimeConfig.Spawn(
            LocalRuntimeConfig.Spawn.pythonLauncher("/usr/bin/python3"),
            Path.of("/models/klein"),
            "cuda:1",
            "127.0.0.1",
            8190,
            Duration.ofMinutes(10),
            dir);
    assertThat(spawn.command())
        .containsExactly(
            "/usr/bin/python3",
            "-m",
            "fluxbot_klein",
            "serve",
            "--checkpoint",
            "/models/klein",
            "--device",
            "cuda:1",
            "--listen",
            "127.0.0.1:8190");
    assertThat(
            LocalRuntimeConfig.of(List.of(URI.create("http://gpu-box:8188")), spawn, true)
                .allWorkers())
        .containsExactly(URI.create("http://gpu-box:8188"), URI.create("http://127.0.0.1:8190"));
  }
}
