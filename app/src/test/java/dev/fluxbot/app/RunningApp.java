package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.testkit.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** {@code fluxbot run} as a child process, its output appended to {@code app.log} in its folder. */
final class RunningApp {
  private final Process process;
  private final Path log;

  /** Whether the app still runs. */
  boolean isAlive() {
    return process.isAlive();
  }

  private RunningApp(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * Starts {@code builder} (from {@link FluxbotProcess#builder}) and waits, up to 60 s, until
   * {@code ready}.
   */
  static RunningApp start(ProcessBuilder builder, Path dir, BooleanSupplier ready)
      throws Exception {
    Path log = dir.resolve("app.log");
    RunningApp app =
        new RunningApp(
            builder
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start(),
            log);
    Await.until(
        "the app ready or gone",
        Duration.ofSeconds(60),
        () -> ready.getAsBoolean() || !app.process.isAlive());
    assertThat(ready.getAsBoolean()).as("the app got ready; its log:\n%s", app.log()).isTrue();
    return app;
  }

  /** Everything the app wrote so far (all runs in this folder). */
  String log() {
    return read(log);
  }

  static String read(Path log) {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return e.toString();
    }
  }

  /** SIGKILL: the process dies at once, as in a crash; waits until it has. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM (the graceful path), then a kill after 30 s. */
  void stop() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
