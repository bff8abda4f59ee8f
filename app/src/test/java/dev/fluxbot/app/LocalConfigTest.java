package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.runtime.LocalRuntimeConfig;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code local} section of {@code fluxbot.yaml}. */
class LocalConfigTest {
  @TempDir Path dir;

  private FluxbotConfig load(String yaml) throws Exception {
    Path file = dir.resolve("fluxbot.yaml");
    Files.writeString(file, yaml);
    return FluxbotConfig.load(file);
  }

  private String error(String yaml) {
    Path file = dir.resolve("fluxbot.yaml");
    return assertThatThrownBy(() -> load(yaml))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .actual()
        .getMessage()
        .substring(file.toString().length() + 2);
  }

  @Test
  void withoutALocalSectionTheRuntimeIsOff() throws Exception {
    FluxbotConfig.Local local = load("bfl:\n  region: eu\n").local();
    assertThat(local.enabled()).isFalse();
    assertThat(local.fallbackToBfl()).isFalse();
  }

  @Test
  void workersAndFallbackAreRead() throws Exception {
    FluxbotConfig config =
        load(
            "local:\n  workers: [http://127.0.0.1:8188, 'http://gpu-box:9000']\n"
                + "  fallback_to_bfl: true\n");
    LocalRuntimeConfig rc = Wiring.localConfig(config.local(), dir);
    assertThat(rc.workers())
        .containsExactly(URI.create("http://127.0.0.1:8188"), URI.create("http://gpu-box:9000"));
    assertThat(rc.fallbackToBfl()).isTrue();
    assertThat(rc.spawn()).isNull();
  }

  @Test
  void spawnHasDefaultsForEverythingButTheCheckpoint() throws Exception {
    FluxbotConfig config = load("local:\n  spawn:\n    checkpoint: /models/FLUX.2-klein-4B\n");
    FluxbotConfig.LocalSpawn s = config.local().spawn();
    assertThat(s.python())
        .isEqualTo(
            Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3");
    assertThat(s.device()).isEqualTo("auto");
    assertThat(s.listen()).isEqualTo("127.0.0.1:8188");
    assertThat(s.healthTimeoutDuration()).isEqualTo(Duration.ofMinutes(10));
    LocalRuntimeConfig rc = Wiring.localConfig(config.local(), dir);
    assertThat(rc.spawn().command())
        .containsExactly(
            s.python(),
            "-m",
            "fluxbot_klein",
            "serve",
            "--checkpoint",
            "/models/FLUX.2-klein-4B",
            "--device",
            "auto",
            "--listen",
            "127.0.0.1:8188");
    assertThat(rc.allWorkers()).containsExactly(URI.create("http://127.0.0.1:8188"));
    assertThat(rc.spawn().dataDir()).isEqualTo(dir);
  }

  @Test
  void spawnSettingsAreRead() throws Exception {
    FluxbotConfig config =
        load(
            "local:\n  spawn:\n    python: /opt/venv/bin/python\n    checkpoint: /m/k.safetensors\n"
                + "    device: cuda:1\n    listen: 127.0.0.1:8190\n    health_timeout: 90s\n");
    LocalRuntimeConfig.Spawn spawn = Wiring.localConfig(config.local(), dir).spawn();
    assertThat(spawn.command())
        .containsExactly(
            "/opt/venv/bin/python",
            "-m",
            "fluxbot_klein",
            "serve",
            "--checkpoint",
            "/m/k.safetensors",
            "--device",
            "cuda:1",
            "--listen",
            "127.0.0.1:8190");
    assertThat(spawn.healthTimeout()).isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void badValuesNameTheFieldTheRuleAndTheValue() {
    assertThat(error("local:\n  workers: [ftp://x]\n"))
        .isEqualTo(
            "local: local.workers[0]: must be a worker's "
                + "http://HOST:PORT URL, e.g. http://127.0.0.1:8188; got \"ftp://x\"");
    assertThat(error("local:\n  spawn:\n    device: cuda\n"))
        .isEqualTo(
            "local.spawn: local.spawn.checkpoint: "
                + "required; the klein checkpoint to load, a Hugging Face folder or BFL's single .safetensors file, e.g. "
                + "/models/FLUX.2-klein-4B; got nothing");
    assertThat(error("local:\n  spawn:\n    checkpoint: /m\n    device: gpu\n"))
        .isEqualTo(
            "local.spawn: "
                + "local.spawn.device: must be auto, cpu, cuda, cuda:N or mps; got \"gpu\"");
    assertThat(error("local:\n  spawn:\n    checkpoint: /m\n    listen: 8188\n"))
        .isEqualTo(
            "local.spawn: "
                + "local.spawn.listen: must be HOST:PORT with a port 1..65535, e.g. 127.0.0.1:8188 (or 0.0.0.0:8188 for every "
                + "interface); got \"8188\"");
    assertThat(error("local:\n  spawn:\n    checkpoint: /m\n    health_timeout: soon\n"))
        .isEqualTo(
            "local.spawn: "
                + "local.spawn.health_timeout: must be a positive duration like 90s, 10m or 1h; got \"soon\"");
    assertThat(error("local:\n  health_interval: 0s\n"))
        .isEqualTo(
            "local: local.health_interval: must be a "
                + "positive duration like 90s, 10m or 1h; got \"0s\"");
    assertThat(error("local:\n  requeue_wait: a while\n"))
        .isEqualTo(
            "local: local.requeue_wait: must be a "
                + "positive duration like 90s, 10m or 1h; got \"a while\"");
    assertThat(error("local:\n  max_attempts: 0\n"))
        .isEqualTo(
            "local: local.max_attempts: must be 1..10 (a lost " + "worker costs one); got 0");
    assertThat(error("local:\n  fallback: true\n"))
        .startsWith(
            "unknown setting 'local.fallback'; known here: "
                + "fallback_to_bfl, health_interval, max_attempts, requeue_wait, spawn, workers");
  }

  @Test
  void retryAndHealthSettingsHaveDefaultsAndAreRead() throws Exception {
    LocalRuntimeConfig defaults =
        Wiring.localConfig(load("local:\n  workers: [http://127.0.0.1:8188]\n").local(), dir);
    LocalRuntimeConfig set =
        Wiring.localConfig(
            load("local:\n  workers: [http://127.0.0.1:8188]\n"
                    + "  health_interval: 2s\n  requeue_wait: 0s\n  max_attempts: 5\n")
                .local(),
            dir);

    assertThat(defaults.healthInterval()).isEqualTo(LocalRuntimeConfig.DEFAULT_HEALTH_INTERVAL);
    assertThat(defaults.requeueWait()).isEqualTo(LocalRuntimeConfig.DEFAULT_REQUEUE_WAIT);
    assertThat(defaults.maxAttempts()).isEqualTo(LocalRuntimeConfig.DEFAULT_MAX_ATTEMPTS);
    assertThat(set.healthInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(set.requeueWait()).as("0s: no waiting for a lost worker's return").isZero();
    assertThat(set.maxAttempts()).isEqualTo(5);
  }
}
