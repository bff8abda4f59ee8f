package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.testkit.FakeKleinWorker;
import dev.fluxbot.testkit.FakeKleinWorkerMain;
import dev.fluxbot.testkit.junit.FakeKleinWorkerExtension;
import java.awt.image.BufferedImage;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fluxbot doctor} and {@code fluxbot imagine --model klein} as real child processes against
 * fake klein workers.
 */
class LocalRuntimeProcessTest {
  private static final String TELEGRAM_TOKEN = "123456:TELEGRAM-SECRET-abcdef";
  private static final String BFL_KEY = "sk-live-DOCTOR-SECRET-1234";
  private static final ObjectMapper JSON = new ObjectMapper();

  @RegisterExtension
  final FakeKleinWorkerExtension workerFake =
      new FakeKleinWorkerExtension(
          b -> b.device("cuda:0", "NVIDIA H100 80GB HBM3", 80L << 30).queue(1, 0));

  private final FakeKleinWorker worker = workerFake.get();

  @TempDir Path dir;

  record Run(int exit, String out, String err) {
    String all() {
      return out + err;
    }
  }

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

  private void config(String yaml) throws Exception {
    Files.writeString(dir.resolve("fluxbot.yaml"), yaml);
  }

  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static Map<String, String> secrets() {
    return Map.of("FLUXBOT_TELEGRAM_TOKEN", TELEGRAM_TOKEN, "BFL_API_KEY", BFL_KEY);
  }

  @Test
  void doctorWithAHealthyWorkerSaysAllIsWell() throws Exception {
    config("local:\n  workers: [" + worker.url() + "]\n");

    Run run = fluxbot(secrets(), "doctor");

    assertThat(run.exit()).as(run.all()).isZero();
    assertThat(run.out())
        .contains("ok    config: fluxbot.yaml")
        .contains(
            "--    database: SQLite data/fluxbot.db does not exist yet; run (or imagine) creates it")
        .contains("ok    telegram: token set")
        .contains(
            "--    discord: not configured; set FLUXBOT_DISCORD_TOKEN (or discord.token_file) to use Discord")
        .contains("ok    bfl: API key set")
        .contains(
            "ok    local worker "
                + worker.url()
                + ": ok, klein-4b distilled on cuda:0 (NVIDIA H100 80GB HBM3), "
                + "memory 1.0 of 80.0 GiB, queue 1 waiting, 0 running (batch 4)")
        .contains("--    local klein: fallback to BFL is off (local.fallback_to_bfl)")
        .endsWith("All is well.\n");
    assertThat(run.all())
        .doesNotContain(TELEGRAM_TOKEN)
        .doesNotContain(BFL_KEY)
        .doesNotContain("SECRET");
  }

  @Test
  void doctorWithADeadWorkerSaysWhatIsWrongAndWhatToDo() throws Exception {
    int port = closedPort();
    config("local:\n  workers: [http://127.0.0.1:" + port + "]\n");

    Run run = fluxbot(secrets(), "doctor");

    assertThat(run.exit()).as(run.all()).isEqualTo(1);
    assertThat(run.out())
        .contains(
            "FAIL  local worker http://127.0.0.1:"
                + port
                + ": is not answering (connection "
                + "refused); start the worker there (PYTHONPATH=runtime-local/worker python3 -m fluxbot_klein serve "
                + "--checkpoint … --listen HOST:PORT) or fix local.workers")
        .endsWith("1 problem(s) found; fix the FAIL lines above.\n");
  }

  @Test
  void doctorReportsALoadingWorkerMissingTokensAndABadConfig() throws Exception {
    worker.setStatus("loading");
    config("local:\n  workers: [" + worker.url() + "]\n  fallback_to_bfl: true\n");

    Run run = fluxbot(Map.of(), "doctor");

    assertThat(run.exit()).as(run.all()).isEqualTo(1);
    assertThat(run.out())
        .contains("FAIL  chat platforms: none configured, so fluxbot run has nothing to serve")
        .contains("FAIL  bfl: no API key; set BFL_API_KEY or bfl.api_key_file")
        .contains("FAIL  local worker " + worker.url() + ": loading, klein-4b distilled on cuda:0")
        .contains("; wait until it has loaded the model, then run doctor again");

    config("local:\n  spawn:\n    device: tpu\n    checkpoint: /m\n");
    Run bad = fluxbot(secrets(), "doctor");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.out())
        .contains("FAIL  config: " + dir.resolve("fluxbot.yaml").toRealPath().getFileName())
        .contains("local.spawn.device: must be auto, cpu, cuda, cuda:N or mps; got \"tpu\"");
  }

  @Test
  void imagineWithModelKleinRunsOnTheConfiguredWorker() throws Exception {
    config("local:\n  workers: [" + worker.url() + "]\n");

    Run run =
        fluxbot(
            Map.of(),
            "imagine",
            "a red fox in snow --model klein --ar 16:9 --seed 7 --format png",
            "-o",
            "fox.png",
            "--json");

    assertThat(run.exit()).as(run.all()).isZero();
    BufferedImage image = ImageIO.read(dir.resolve("fox.png").toFile());
    assertThat(image.getWidth()).isEqualTo(1344);
    assertThat(image.getHeight()).isEqualTo(768);
    JsonNode result = JSON.readTree(run.out());
    assertThat(result.get("backend").asText()).isEqualTo("local-klein");
    assertThat(result.get("model").asText()).isEqualTo("klein-4b");
    assertThat(result.get("seed").asLong()).isEqualTo(7);
    assertThat(result.get("cost_credits").decimalValue()).isEqualByComparingTo("1");
    FakeKleinWorker.RecordedGenerate sent = worker.takeGenerate();
    assertThat(sent.body().get("prompt").asText()).isEqualTo("a red fox in snow");
    assertThat(sent.body().get("width").asInt()).isEqualTo(1344);
    assertThat(sent.body().get("output_format").asText()).isEqualTo("png");
  }

  @Test
  void dryRunForKleinQuotesTheLocalRuntimeAndItsPrice() throws Exception {
    config("local:\n  workers: [" + worker.url() + "]\nquotas:\n  local_image_credits: 2\n");

    Run klein =
        fluxbot(Map.of(), "imagine", "a red fox --model klein --seed 7", "--dry-run", "--json");
    Run pro = fluxbot(Map.of(), "imagine", "a red fox --model pro --seed 7", "--dry-run");

    assertThat(klein.exit()).as(klein.all()).isZero();
    JsonNode plan = JSON.readTree(klein.out());
    assertThat(plan.get("backend").asText()).isEqualTo("local-klein");
    assertThat(plan.get("endpoint").isNull()).isTrue();
    assertThat(plan.get("estimated_cost_credits").decimalValue()).isEqualByComparingTo("2");
    assertThat(pro.out()).startsWith("Would send to /v1/flux-2-pro: pro,");
    assertThat(worker.generates()).as("a dry run sends nothing").isEmpty();
  }

  @Test
  void imagineWithADeadWorkerAndNoFallbackSaysTheLocalRuntimeIsUnavailable() throws Exception {
    int port = closedPort();
    config("local:\n  workers: [http://127.0.0.1:" + port + "]\n");

    Run run = fluxbot(Map.of("BFL_API_KEY", BFL_KEY), "imagine", "a red fox --model klein");

    assertThat(run.exit()).as(run.all()).isEqualTo(1);
    assertThat(run.err())
        .contains(
            "fluxbot: Local runtime unavailable: worker http://127.0.0.1:"
                + port
                + " is not answering (connection refused). No other backend runs klein-4b here");
  }

  @Test
  void imagineSpawnsTheWorkerWaitsForItAndStopsItAfterwards() throws Exception {
    int port = closedPort();
    Files.createDirectories(dir.resolve("klein-4b"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    config(
        "local:\n  spawn:\n    checkpoint: klein-4b\n    device: cpu\n    listen: 127.0.0.1:"
            + port
            + "\n"
            + "    health_timeout: 60s\n    command: ['"
            + java
            + "', '-cp', '"
            + System.getProperty("java.class.path")
            + "', '"
            + FakeKleinWorkerMain.class.getName()
            + "', '--load-ms', '500']\n");

    Run run =
        fluxbot(
            new HashMap<>(),
            "imagine",
            "a red fox --model klein --seed 3 --format png",
            "-o",
            "fox.png");

    assertThat(run.exit()).as(run.all()).isZero();
    assertThat(ImageIO.read(dir.resolve("fox.png").toFile()).getWidth()).isEqualTo(1024);
    assertThat(run.err())
        .contains("waiting for the local klein worker to load its model (up to 60 s)");
    try (var versions = Files.list(dir.resolve("data").resolve("worker"))) {
      assertThat(versions.toList())
          .singleElement()
          .satisfies(
              v -> assertThat(v.resolve("fluxbot_klein").resolve("__init__.py")).isRegularFile());
    }
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1000);
      org.assertj.core.api.Assertions.fail("the spawned worker still listens after fluxbot exited");
    } catch (java.net.ConnectException expected) {
      // stopped with fluxbot
    }
  }
}
