package dev.fluxbot.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile's bot stage (no Docker engine runs in the tests; EntrypointIT runs its entrypoint
 * and HealthcheckIT its health check): a Java 21 runtime, its own user, the data volume, the ports
 * and the readiness check.
 */
class DockerfileTest {
  private static final Path ROOT = Processes.root();

  /** The instructions of the last stage, continuation lines joined. */
  static List<String> lastStage() throws Exception {
    List<String> instructions = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String raw : Files.readAllLines(ROOT.resolve("Dockerfile"))) {
      String line = raw.strip();
      if (current.isEmpty() && (line.isEmpty() || line.startsWith("#"))) {
        continue;
      }
      if (line.endsWith("\\")) {
        current.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      current.append(line);
      String instruction = current.toString().replaceAll("\\s+", " ");
      current.setLength(0);
      if (instruction.startsWith("FROM ")) {
        instructions.clear();
      }
      instructions.add(instruction);
    }
    return instructions;
  }

  @Test
  void theBotRunsOnAJava21RuntimeAsItsOwnUserWithItsDataInAVolume() throws Exception {
    List<String> stage = lastStage();

    assertThat(stage.get(0)).isEqualTo("FROM eclipse-temurin:21-jre AS bot");
    assertThat(stage).contains("USER fluxbot:fluxbot", "VOLUME /data", "EXPOSE 9464 8787");
    assertThat(stage)
        .contains(
            "COPY docker/entrypoint.sh /opt/fluxbot/bin/docker-entrypoint",
            "ENTRYPOINT [\"/opt/fluxbot/bin/docker-entrypoint\"]",
            "CMD [\"run\"]");
    assertThat(stage)
        .anyMatch(
            i ->
                i.startsWith("ENV ")
                    && i.contains("FLUXBOT_OPS_LISTEN=0.0.0.0:9464")
                    && i.contains("FLUXBOT_DATA_DIR=/data")
                    && i.contains("FLUXBOT_HOME=/opt/fluxbot")
                    && i.contains("LANG=C.UTF-8"));
    assertThat(stage)
        .anyMatch(
            i ->
                i.startsWith("HEALTHCHECK ")
                    && i.endsWith(
                        "CMD [\"/opt/fluxbot/bin/fluxbot-healthcheck\","
                            + " \"http://127.0.0.1:9464/readyz\"]"));
    assertThat(stage).noneMatch(i -> i.startsWith("USER root") || i.startsWith("USER 0"));
  }

  @Test
  void theEntrypointAndTheLaunchersAreExecutable() {
    assertThat(ROOT.resolve("docker/entrypoint.sh")).isExecutable();
    assertThat(ROOT.resolve("dist/src/bin/fluxbot")).isExecutable();
    assertThat(ROOT.resolve("dist/src/bin/fluxbot-healthcheck")).isExecutable();
    assertThat(ROOT.resolve("mvnw")).isExecutable();
  }
}
