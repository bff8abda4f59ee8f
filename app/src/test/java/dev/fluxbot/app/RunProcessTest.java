package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fluxbot run} as a real process. */
class RunProcessTest {
  @TempDir
  Path dir;

  private ProcessBuilder fluxbot(Map<String, String> env, String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    Collections.addAll(cmd, args);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("FLUXBOT_") || k.equals("BFL_API_KEY"));
    pb.environment().putAll(env);
    return pb;
  }

  @Test
  void withoutAnyPlatformItSaysWhatToSetAndExits() throws Exception {
    Path err = dir.resolve("err.txt");
    Process p = fluxbot(Map.of(), "run").redirectErrorStream(false).redirectError(err.toFile())
        .redirectOutput(dir.resolve("out.txt").toFile()).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(Files.readString(err)).contains("no chat platform is configured").contains("FLUXBOT_DISCORD_TOKEN");
    assertThat(dir.resolve("data/fluxbot.db")).as("the embedded database is created on first run").exists();
  }
}
