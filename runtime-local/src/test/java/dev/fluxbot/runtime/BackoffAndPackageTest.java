package dev.fluxbot.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.runtime.process.Backoff;
import dev.fluxbot.runtime.process.WorkerPackage;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The restart backoff, the worker package's extraction and the runtime config's rules. */
class BackoffAndPackageTest {
  @TempDir Path dir;

  @Test
  void backoffDoublesFromOneSecondToAMinuteAndResetsAfterAHealthyRun() {
    Backoff backoff = Backoff.defaults();
    List<Long> seconds = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      seconds.add(backoff.after(Duration.ofSeconds(30)).toSeconds());
    }
    assertThat(seconds).containsExactly(1L, 2L, 4L, 8L, 16L, 32L, 60L, 60L);
    assertThat(backoff.after(Duration.ofMinutes(5))).isEqualTo(Duration.ofSeconds(1));
    assertThat(backoff.after(Duration.ZERO)).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void thePackageIsExtractedOnceIntoAFolderNamedForItsContents() throws Exception {
    Path first = WorkerPackage.extract(dir);
    Path second = WorkerPackage.extract(dir);

    assertThat(second).isEqualTo(first);
    assertThat(first.getParent()).isEqualTo(dir.resolve("worker"));
    assertThat(first.getFileName().toString()).matches("[0-9a-f]{16}");
    Path source = Path.of("worker", "fluxbot_klein", "errors.py");
    assertThat(Files.readString(first.resolve("fluxbot_klein").resolve("errors.py")))
        .isEqualTo(Files.readString(source));
    try (var names = Files.walk(first)) {
      assertThat(names.map(Path::toString))
          .noneMatch(n -> n.contains("__pycache__") || n.endsWith(".pyc"));
    }
  }

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
