package dev.fluxbot.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The restart backoff and the worker package's extraction. */
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
}
