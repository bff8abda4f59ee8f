package dev.fluxbot.app;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Starts {@code fluxbot} as a real child JVM on the test's classpath, with only the environment a
 * test gives.
 */
final class FluxbotProcess {
  private FluxbotProcess() {}

  /**
   * A process builder for {@code fluxbot ARGS} in {@code dir}; the parent's fluxbot and BFL
   * variables are removed so that only {@code env} counts.
   */
  static ProcessBuilder builder(Path dir, Map<String, String> env, String... args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName()));
    Collections.addAll(cmd, args);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("FLUXBOT_") || k.equals("BFL_API_KEY"));
    // the fakes serve their files on loopback, which a real bot refuses to fetch references from
    pb.environment().put(Environment.REFERENCES_PERMITTED_HOSTS, "127.0.0.0/8,::1");
    // any free port for the ops listener: tests (and other checkouts) run side by side
    pb.environment().put(Environment.OPS_LISTEN, "127.0.0.1:0");
    pb.environment().putAll(env);
    return pb;
  }
}
