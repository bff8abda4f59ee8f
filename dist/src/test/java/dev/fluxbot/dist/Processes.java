package dev.fluxbot.dist;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a program with exactly the environment a test gives it, and what it said. */
final class Processes {
  private Processes() {}

  /** The exit code and the output of a finished program. */
  record Result(int code, String out, String err) {
    /** The standard error's lines. */
    List<String> errLines() {
      return err.lines().toList();
    }

    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  /** Runs {@code command} in {@code dir} with only {@code env}; fails after two minutes. */
  static Result run(Path dir, Map<String, String> env, List<String> command) throws Exception {
    Path out = Files.createTempFile("fluxbot-dist-out", ".txt");
    Path err = Files.createTempFile("fluxbot-dist-err", ".txt");
    try {
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile());
      pb.environment().clear();
      pb.environment().putAll(env);
      Process p = pb.start();
      if (!p.waitFor(2, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException(command + " did not end within two minutes");
      }
      return new Result(
          p.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /** The repository's root (the build passes it). */
  static Path root() {
    return Path.of(System.getProperty("fluxbot.root", "..")).toAbsolutePath().normalize();
  }

  /** The bin folder of the Java that runs the tests: the only thing on a launcher's PATH. */
  static Path javaBin() {
    return Path.of(System.getProperty("java.home"), "bin");
  }

  /** Whether this process runs as root (then programs are run as nobody where that matters). */
  static boolean runAsRoot() throws IOException {
    return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
  }
}
