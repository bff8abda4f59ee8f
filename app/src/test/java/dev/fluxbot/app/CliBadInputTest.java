package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line, in process, with input a user gets wrong: one line that names the field, never
 * a stack trace.
 */
class CliBadInputTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private Path config;

  record Run(int exit, String out, String err) {}

  @BeforeEach
  void config() throws Exception {
    config = dir.resolve("fluxbot.yaml");
    Files.writeString(config, "storage:\n  data_dir: " + dir.resolve("data") + "\n");
  }

  private Run fluxbot(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] all = new String[args.length + 1];
    all[0] = args[0];
    all[1] = "--config=" + config;
    System.arraycopy(args, 1, all, 2, args.length - 1);
    int exit =
        Main.run(all, new Environment(env), new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(exit, out.toString(), err.toString());
  }

  private Run fluxbot(String... args) {
    return fluxbot(Map.of(), args);
  }

  private static void assertOneLineWithoutTrace(Run run) {
    assertThat(run.err().strip())
        .doesNotContain("\n")
        .doesNotContain("Exception")
        .doesNotContain("\tat ");
  }

  @Test
  void aMalformedImageUrlIsAnInputErrorNamingTheField() {
    for (String url :
        new String[] {"http://exa mple.com/x.png", "https://[::1/x.png", "https:///x.png"}) {
      for (boolean dryRun : new boolean[] {true, false}) {
        Run run =
            dryRun
                ? fluxbot("imagine", "a fox", "--image", url, "--dry-run")
                : fluxbot("imagine", "a fox", "--image", url);
        assertThat(run.exit()).as(url + " " + run.err()).isEqualTo(2);
        assertThat(run.err())
            .startsWith("fluxbot: --image: not a valid URL")
            .contains("\"" + url + "\"");
        assertOneLineWithoutTrace(run);
      }
    }
  }

  @Test
  void aFolderGivenAsAnImageIsAnInputError() {
    Run run = fluxbot("imagine", "a fox", "--image", dir.toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err())
        .startsWith("fluxbot: --image: must be an image file, not a folder; got \"" + dir + "\"");
    assertOneLineWithoutTrace(run);
  }

  @Test
  void creditsPastTheLimitAreAnInputErrorNotAnArithmeticTrace() {
    Run run = fluxbot("quota", "set", "--credits", "1e400", "--user", "cli:bob");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err().strip())
        .isEqualTo(
            "fluxbot: --credits: must be a number from 0 to 1000000000 with at most 3 decimals"
                + " (1 credit = $0.01); got \"1E+400\". Example: --credits 50");
    Run grant = fluxbot("quota", "grant", "--credits", "-3", "--user", "cli:bob");
    assertThat(grant.exit()).isEqualTo(2);
    assertThat(grant.err())
        .contains("--credits: must be a number from 0 to 1000000000 with at most 3 decimals")
        .contains("got \"-3\".");
    Run fraction = fluxbot("quota", "grant", "--credits", "0.0005", "--user", "cli:bob");
    assertThat(fraction.exit())
        .as("a fraction past a millicredit is refused, not rounded")
        .isEqualTo(2);
    assertThat(fraction.err()).contains("got \"0.0005\"");
  }

  @Test
  void thePromptMayBeginWithAFlag() throws Exception {
    Run run = fluxbot("imagine", "--ar 16:9 a fox --seed 7", "--dry-run", "--json");
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode r = JSON.readTree(run.out());
    assertThat(r.get("prompt").asText()).isEqualTo("a fox");
    assertThat(r.get("width").asInt()).isEqualTo(1344);
    assertThat(r.get("seed").asLong()).isEqualTo(7);
  }

  @Test
  void aDryRunTouchesNothing() {
    Run run = fluxbot("imagine", "a fox --model pro", "--dry-run");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("pro");
    assertThat(dir.resolve("data")).doesNotExist();
  }

  @Test
  void aDatabaseThatDoesNotAnswerIsExit1AndShowsNoPassword() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Map<String, String> env = new HashMap<>();
    env.put(
        Environment.DATABASE_URL,
        "jdbc:postgresql://127.0.0.1:" + port + "/fluxbot?user=bob&password=hunter2");
    Run run = fluxbot(env, "quota", "show", "--user", "cli:bob");
    assertThat(run.exit()).as(run.err()).isEqualTo(1);
    assertThat(run.err())
        .startsWith(
            "fluxbot: the database jdbc:postgresql://127.0.0.1:"
                + port
                + "/fluxbot?user=bob&password=*** did not accept a connection")
        .doesNotContain("hunter2");
    assertOneLineWithoutTrace(run);
  }

  @Test
  void aPoolSizeOutOfRangeNamesTheSetting() throws Exception {
    Files.writeString(
        config, "storage:\n  data_dir: " + dir.resolve("data") + "\n  database_pool_size: 1\n");
    Run run = fluxbot("quota", "show", "--user", "cli:bob");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("storage.database_pool_size: must be from 2 to 100; got 1.");
  }

  @Test
  void aValueOfTheWrongTypeNamesTheFieldTheRuleAndTheValue() throws Exception {
    Files.writeString(
        config, "storage:\n  data_dir: " + dir.resolve("data") + "\nquotas:\n  credits: lots\n");
    Run run = fluxbot("quota", "show", "--user", "cli:bob");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("quotas.credits: must be a number; got 'lots'.");
    assertOneLineWithoutTrace(run);
    assertThat(run.err()).doesNotContain("java.lang").doesNotContain("Cannot deserialize");

    Files.writeString(config, "storage:\n  data_dir: [a, b]\n");
    run = fluxbot("quota", "show", "--user", "cli:bob");
    assertThat(run.err()).contains("storage.data_dir: must be a single value (text); got a list.");
    assertOneLineWithoutTrace(run);

    Files.writeString(config, "storage:\n  database_pool_size: {a: 1}\n");
    run = fluxbot("quota", "show", "--user", "cli:bob");
    assertThat(run.err())
        .contains("storage.database_pool_size: must be a whole number; got a mapping");
    assertOneLineWithoutTrace(run);

    Files.writeString(config, "storage:\n\tdata_dir: x\n  - oops: [\n");
    run = fluxbot("quota", "show", "--user", "cli:bob");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("line ").contains("not valid YAML");
    assertOneLineWithoutTrace(run);
  }

  @Test
  void aReferenceOnTheBotsOwnMachineIsRefusedUnlessAnAdminPermitsIt() throws Exception {
    java.util.concurrent.atomic.AtomicInteger requests =
        new java.util.concurrent.atomic.AtomicInteger();
    com.sun.net.httpserver.HttpServer server =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          requests.incrementAndGet();
          exchange.sendResponseHeaders(404, -1);
          exchange.close();
        });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/ok.png";
      Map<String, String> env =
          Map.of("BFL_API_KEY", "test-key", "FLUXBOT_BFL_BASE_URL", "http://127.0.0.1:9");
      Run run = fluxbot(env, "imagine", "a fox", "--image", url);
      assertThat(run.exit()).as(run.err()).isEqualTo(2);
      assertThat(run.err()).contains("image1: the link leads to a loopback address");
      assertThat(requests.get()).isZero();

      Files.writeString(
          config,
          "storage:\n  data_dir: "
              + dir.resolve("data")
              + "\nreferences:\n  permitted_hosts: "
              + "[10.0.0.0/33]\n");
      Run bad = fluxbot(env, "imagine", "a fox", "--image", url);
      assertThat(bad.exit()).isEqualTo(2);
      assertThat(bad.err())
          .contains(
              "references.permitted_hosts: the prefix length after / must be 0 to 32; got "
                  + "\"10.0.0.0/33\"");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void anUnexpectedExceptionBecomesOneLineAndItsTraceOnlyWithVerbose() {
    StringWriter quiet = new StringWriter();
    int exit =
        Main.lastResort(
            new IllegalStateException("the widget broke\nsecond line"),
            false,
            new PrintWriter(quiet, true));
    assertThat(exit).isEqualTo(1);
    assertThat(quiet.toString().strip())
        .isEqualTo(
            "fluxbot: unexpected error (IllegalStateException: the widget broke);"
                + " run again with -v to see where it happened, and report it if it persists");
    StringWriter verbose = new StringWriter();
    Main.lastResort(
        new IllegalStateException("the widget broke"), true, new PrintWriter(verbose, true));
    assertThat(verbose.toString()).contains("\tat dev.fluxbot.app.CliBadInputTest");
  }
}
