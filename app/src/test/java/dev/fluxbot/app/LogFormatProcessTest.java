package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The log on stderr of real {@code fluxbot} processes: its two formats and its levels. */
class LogFormatProcessTest {
  private static final String KEY = "sk-logs-TESTSECRET-1234";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** {@code 2026-12-07T21:58:19.123Z}: the date, the time to the millisecond, the offset. */
  private static final String ISO_TIME =
      "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2})";

  @RegisterExtension final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(KEY));
  private final FakeBflApi bfl = bflFake.get();

  @TempDir Path dir;

  private record Run(int exit, String out, String err) {}

  private Run fluxbot(Map<String, String> env, String... args) throws Exception {
    Path out = dir.resolve("stdout.txt");
    Path err = dir.resolve("stderr.txt");
    Process p =
        FluxbotProcess.builder(dir, env, args)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("fluxbot finished").isTrue();
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private Map<String, String> bflEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("BFL_API_KEY", KEY);
    env.put("FLUXBOT_BFL_BASE_URL", bfl.baseUrl());
    return env;
  }

  private static List<JsonNode> jsonLines(String err) throws IOException {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : err.lines().toList()) {
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (IOException e) {
        throw new AssertionError("not a JSON line on stderr: " + line + "\nall of it:\n" + err, e);
      }
      assertThat(node.isObject()).as(line).isTrue();
      assertThat(node.path("timestamp").asText()).as(line).matches(ISO_TIME);
      assertThat(node.path("level").asText()).as(line).isIn("ERROR", "WARN", "INFO", "DEBUG");
      assertThat(node.has("logger") && node.has("message") && node.has("thread")).as(line).isTrue();
      lines.add(node);
    }
    return lines;
  }

  @Test
  void inJsonEveryStderrLineIsAnObjectAndTheJobsLinesCarryItsIdAndPlatform() throws Exception {
    bfl.enqueue(Scenario.ready().withCost(1.4));
    Files.writeString(dir.resolve("fluxbot.yaml"), "log:\n  format: json\n");
    Run run = fluxbot(bflEnv(), "-v", "imagine", "a red fox --seed 7", "-o", "fox.jpg", "--json");

    assertThat(run.exit()).as(run.err()).isZero();
    String jobId = JSON.readTree(run.out()).get("job_id").asText();
    List<JsonNode> lines = jsonLines(run.err());
    List<JsonNode> jobs =
        lines.stream().filter(l -> l.path("message").asText().contains("job " + jobId)).toList();
    assertThat(jobs).as("the job's own lines:\n%s", run.err()).isNotEmpty();
    for (JsonNode l : jobs) {
      assertThat(l.path("job_id").asText()).as(l.toString()).isEqualTo(jobId);
      assertThat(l.path("platform").asText()).as(l.toString()).isEqualTo("cli");
    }
    assertThat(lines)
        .as("the libraries' INFO lines with -v, as JSON too")
        .anyMatch(l -> l.path("logger").asText().startsWith("org.flywaydb"));
    assertThat(run.err()).doesNotContain(KEY);
  }

  @Test
  void theEnvironmentChoosesJsonAndAFailedCommandEndsWithAnErrorObject() throws Exception {
    Run run = fluxbot(Map.of("FLUXBOT_LOG_FORMAT", "json"), "run");

    assertThat(run.exit()).isEqualTo(2);
    List<JsonNode> lines = jsonLines(run.err());
    assertThat(lines)
        .anyMatch(l -> l.path("message").asText().contains("no chat platform is configured"));
    assertThat(lines.get(lines.size() - 1).path("level").asText()).isEqualTo("ERROR");
    assertThat(lines.get(lines.size() - 1).path("message").asText())
        .isEqualTo("fluxbot exited with code 2");
  }

  @Test
  void aBadFormatIsAConfigErrorNamingTheFieldTheRuleAndTheValue() throws Exception {
    Files.writeString(dir.resolve("fluxbot.yaml"), "log:\n  format: xml\n");
    Run run = fluxbot(Map.of(), "jobs", "list");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err())
        .contains("log.format: must be text or json; got \"xml\"")
        .doesNotContain("Exception");

    Files.delete(dir.resolve("fluxbot.yaml"));
    run = fluxbot(Map.of("FLUXBOT_LOG_FORMAT", "yaml"), "jobs", "list");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("FLUXBOT_LOG_FORMAT: must be text or json; got \"yaml\"");
  }

  @Test
  void verboseShowsTheLibrariesInfoAndTwiceFluxbotsDebug() {
    var ctx = (ch.qos.logback.classic.LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
    try {
      String[][] cases = {{"help"}, {"-v", "help"}, {"-vv", "help"}};
      String[][] expected = {{"WARN", "WARN"}, {"INFO", "INFO"}, {"INFO", "DEBUG"}};
      for (int i = 0; i < cases.length; i++) {
        java.io.StringWriter sink = new java.io.StringWriter();
        Main.run(
            cases[i],
            new Environment(Map.of()),
            new java.io.PrintWriter(sink),
            new java.io.PrintWriter(sink));
        assertThat(ctx.getLogger("ROOT").getLevel().toString()).isEqualTo(expected[i][0]);
        assertThat(ctx.getLogger("dev.fluxbot").getLevel().toString()).isEqualTo(expected[i][1]);
      }
    } finally {
      ctx.getLogger("ROOT").setLevel(ch.qos.logback.classic.Level.INFO);
      ctx.getLogger("dev.fluxbot").setLevel(null);
    }
  }

  @Test
  void textLinesStartWithTheDateAndTheLibrariesStartUpLinesShowOnlyWithVerbose() throws Exception {
    Run quiet = fluxbot(bflEnv(), "run");
    assertThat(quiet.exit()).isEqualTo(2);
    assertThat(quiet.err())
        .as("without -v: no HikariCP or Flyway INFO line")
        .doesNotContain("HikariDataSource")
        .doesNotContain("Flyway")
        .doesNotContain("DbMigrate");
    assertThat(quiet.err().lines().filter(l -> l.contains(" INFO ")))
        .as("fluxbot's own INFO lines stay for run (its first start migrates the database)")
        .isNotEmpty()
        .allMatch(l -> l.matches(ISO_TIME + " INFO  d\\.f.*"));

    Run verbose = fluxbot(bflEnv(), "run", "-v");
    assertThat(verbose.exit()).isEqualTo(2);
    List<String> logLines = verbose.err().lines().filter(l -> !l.startsWith("fluxbot: ")).toList();
    assertThat(logLines)
        .isNotEmpty()
        .allMatch(l -> l.matches(ISO_TIME + " (ERROR|WARN |INFO ) .*"));
    assertThat(verbose.err()).contains("HikariDataSource").contains("DbMigrate");
  }
}
