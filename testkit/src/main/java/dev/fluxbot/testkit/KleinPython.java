package dev.fluxbot.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Python side of the klein worker, for tests that run the real worker on the CPU: the system
 * interpreter with Debian's PyTorch, the worker's source folder, and tiny random checkpoints in the
 * official layouts.
 *
 * <p>Where the interpreter cannot import torch, {@link #isAvailable()} is false and such tests
 * skip, unless {@code FLUXBOT_REQUIRE_TORCH=1} (CI sets it), which turns that into a failure.
 */
public final class KleinPython {
  private static volatile Boolean available;

  private KleinPython() {}

  /**
   * {@code FLUXBOT_PYTHON}, else the system {@code /usr/bin/python3} (where Debian's packages
   * land), else {@code python3}.
   */
  public static String interpreter() {
    String configured = System.getenv("FLUXBOT_PYTHON");
    if (configured != null && !configured.isBlank()) {
      return configured;
    }
    return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
  }

  /**
   * Whether the interpreter imports what the worker needs (torch, numpy, PIL, regex); asked once.
   */
  public static boolean isAvailable() {
    if (available == null) {
      try {
        Process p =
            new ProcessBuilder(interpreter(), "-c", "import torch, numpy, PIL, regex")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        available = p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
      } catch (IOException e) {
        available = false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        available = false;
      }
    }
    return available;
  }

  /** Whether a missing PyTorch must fail the tests (CI) rather than skip them. */
  public static boolean isRequired() {
    return "1".equals(System.getenv("FLUXBOT_REQUIRE_TORCH"));
  }

  /**
   * {@code runtime-local/worker}, found from the working directory (a module's folder or the root).
   */
  public static Path workerDir() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path worker = d.resolve("runtime-local").resolve("worker");
      if (Files.isDirectory(worker.resolve("fluxbot_klein"))) {
        return worker;
      }
    }
    throw new IllegalStateException(
        "runtime-local/worker/fluxbot_klein not found above " + Path.of("").toAbsolutePath());
  }

  /** What a finished Python command printed and how it ended. */
  public record Result(int exitCode, String output) {}

  /**
   * Runs {@code python args…} in {@code workdir} with the worker on {@code PYTHONPATH}, output
   * merged.
   */
  public static Result run(Path workdir, long timeoutSeconds, String... args) {
    List<String> command = new ArrayList<>();
    command.add(interpreter());
    command.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(command).directory(workdir.toFile()).redirectErrorStream(true);
    pb.environment().put("PYTHONPATH", workerDir().toString());
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    try {
      Path log = Files.createTempFile("fluxbot-python", ".log");
      try {
        Process p = pb.redirectOutput(log.toFile()).start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor();
          return new Result(
              -1,
              Files.readString(log, StandardCharsets.UTF_8)
                  + "\n(killed after "
                  + timeoutSeconds
                  + " s)");
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(log);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + command, e);
    }
  }

  /**
   * Writes a tiny random klein checkpoint ({@code hf} or {@code bfl} layout) into {@code dir};
   * returns what {@code --checkpoint} takes.
   */
  public static Path tinyCheckpoint(Path dir, String layout) {
    Result r =
        run(
            dir.getParent() == null ? dir : dir.getParent(),
            300,
            "-m",
            "fluxbot_klein",
            "tiny",
            dir.toString(),
            "--layout",
            layout);
    if (r.exitCode() != 0) {
      throw new IllegalStateException(
          "writing a tiny checkpoint failed (exit " + r.exitCode() + "):\n" + r.output());
    }
    String[] lines = r.output().strip().split("\n");
    Path printed = Path.of(lines[lines.length - 1].strip());
    return Files.exists(printed) ? printed : dir;
  }
}
