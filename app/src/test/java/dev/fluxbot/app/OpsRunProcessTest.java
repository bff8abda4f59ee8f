package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeTelegram;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeTelegramExtension;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fluxbot run} (a child process) on the fake Bot API and the fake BFL API, seen through its
 * ops listener: ready while Telegram answers, a job in the metrics, not ready once Telegram is
 * gone; {@code off} starts nothing; a taken port or a bad value stops it with one line and exit 2.
 */
class OpsRunProcessTest {
  private static final String BFL_KEY = "sk-ops-process";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LISTENING =
      Pattern.compile("ops: serving /healthz, /readyz and /metrics on 127\\.0\\.0\\.1:(\\d+)");

  @RegisterExtension
  final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(BFL_KEY));

  @RegisterExtension
  final FakeTelegramExtension telegramFake =
      new FakeTelegramExtension(b -> b.awaitTimeout(Duration.ofSeconds(30)));

  private final FakeBflApi bfl = bflFake.get();
  private final FakeTelegram telegram = telegramFake.get();
  private RunningApp app;

  @TempDir Path dir;

  @AfterEach
  void stop() throws Exception {
    if (app != null) {
      app.stop();
    }
  }

  private ProcessBuilder fluxbot(String opsListen) {
    Map<String, String> env = new HashMap<>();
    env.put("BFL_API_KEY", BFL_KEY);
    env.put("FLUXBOT_BFL_BASE_URL", bfl.baseUrl());
    env.put("FLUXBOT_TELEGRAM_TOKEN", telegram.token());
    env.put("FLUXBOT_TELEGRAM_API_URL", telegram.baseUrl());
    if (opsListen != null) {
      env.put(Environment.OPS_LISTEN, opsListen);
    }
    return FluxbotProcess.builder(dir, env, "run", "--grace", "5");
  }

  private String log() {
    return RunningApp.read(dir.resolve("app.log"));
  }

  private int opsPort() {
    Matcher m = LISTENING.matcher(log());
    assertThat(m.find()).as("the log names the ops listener's port:\n%s", log()).isTrue();
    return Integer.parseInt(m.group(1));
  }

  private JsonNode readyz(int port, int status) throws Exception {
    Scrape.Answer a = Scrape.request(port, "GET", "/readyz");
    assertThat(a.status()).as(a.body()).isEqualTo(status);
    return JSON.readTree(a.body());
  }

  @Test
  void readyWhileTelegramAnswersAJobInTheMetricsNotReadyOnceTelegramIsGone() throws Exception {
    app =
        RunningApp.start(
            fluxbot(null), dir, () -> telegram.heldPolls() > 0 && LISTENING.matcher(log()).find());
    int port = opsPort();
    JsonNode ready = readyz(port, 200);
    assertThat(ready.path("ready").asBoolean()).isTrue();
    assertThat(ready.path("checks").path("database").asText()).isEqualTo("ok");
    assertThat(ready.path("checks").path("telegram").asText()).isEqualTo("ok");
    assertThat(ready.path("checks").path("backend:bfl").asText()).isEqualTo("ok");
    assertThat(Scrape.request(port, "GET", "/healthz").body()).isEqualTo("ok\n");

    bfl.enqueue(Scenario.ready().withCost(1.4));
    JsonNode command =
        telegram.sendText(FakeTelegram.privateChat(FakeTelegram.ALICE), "/imagine a fox --seed 5");
    long id = command.path("message_id").asLong();
    telegram.awaitCall(
        "sendPhoto", c -> c.ok() && c.json("reply_parameters").path("message_id").asLong() == id);
    Scrape s = Scrape.metrics(port);
    String[] job = {"platform", "telegram", "backend", "bfl", "model", "klein-4b"};
    assertThat(s.sum("fluxbot_jobs_total", with(job, "state", "submitted"))).isEqualTo(1);
    assertThat(s.sum("fluxbot_jobs_total", with(job, "state", "succeeded"))).isEqualTo(1);
    assertThat(s.sum("fluxbot_credits_charged_total", job)).isEqualTo(1.4);
    assertThat(s.sum("fluxbot_bfl_http_requests_total", "endpoint", "submit", "outcome", "2xx"))
        .isEqualTo(1);
    assertThat(s.sum("fluxbot_platform_connected", "platform", "telegram")).isEqualTo(1);
    assertThat(s.sum("jvm_memory_used_bytes", "area", "heap")).isPositive();

    telegram.close(); // Telegram is gone: the held poll breaks, and every next one fails
    Await.until(
        "/readyz says Telegram is disconnected",
        Duration.ofSeconds(30),
        () -> status(port, "/readyz") == 503);
    JsonNode gone = readyz(port, 503);
    assertThat(gone.path("ready").asBoolean()).isFalse();
    assertThat(gone.path("checks").path("telegram").asText()).isEqualTo("disconnected");
    assertThat(gone.path("checks").path("database").asText()).isEqualTo("ok");
    assertThat(Scrape.metrics(port).sum("fluxbot_platform_connected", "platform", "telegram"))
        .isZero();
    assertThat(Scrape.request(port, "GET", "/healthz").status()).isEqualTo(200);
  }

  @Test
  void offStartsNoListener() throws Exception {
    app = RunningApp.start(fluxbot("off"), dir, () -> telegram.heldPolls() > 0);
    Await.until(
        "the log says ops is off", Duration.ofSeconds(10), () -> log().contains("ops: off"));
    assertThat(log()).doesNotContain("ops: serving");
  }

  @Test
  void aTakenPortStopsRunWithOneLineAndExitTwo() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String out = exitsWithTwo(fluxbot("127.0.0.1:" + taken.getLocalPort()));
      assertThat(out)
          .contains(
              "fluxbot: ops.listen: cannot listen on 127.0.0.1:"
                  + taken.getLocalPort()
                  + " (Address already in use)")
          .contains("Set ops.listen or FLUXBOT_OPS_LISTEN to a free HOST:PORT, or to off.")
          .doesNotContain("\tat ")
          .doesNotContain("Exception");
      assertThat(telegram.heldPolls()).as("no platform was started").isZero();
    }
  }

  @Test
  void aBadValueIsAConfigErrorNamingTheVariableTheRuleAndTheValue() throws Exception {
    String out = exitsWithTwo(fluxbot("localhost"));
    assertThat(out)
        .contains(
            "fluxbot: FLUXBOT_OPS_LISTEN: must be HOST:PORT, e.g. 127.0.0.1:9464 (0.0.0.0:9464 for"
                + " every interface; port 0 for any free one), or off; got \"localhost\"")
        .doesNotContain("\tat ");
    Files.writeString(dir.resolve("fluxbot.yaml"), "ops:\n  listen: 127.0.0.1:99999\n");
    ProcessBuilder fromFile = fluxbot(null);
    fromFile.environment().remove(Environment.OPS_LISTEN); // the file's setting counts
    assertThat(exitsWithTwo(fromFile))
        .contains("ops.listen: must be HOST:PORT")
        .contains("got \"127.0.0.1:99999\"");
  }

  private String exitsWithTwo(ProcessBuilder pb) throws IOException, InterruptedException {
    Path out = dir.resolve("out.txt");
    Process p = pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String text = Files.readString(out);
    assertThat(p.exitValue()).as(text).isEqualTo(2);
    return text;
  }

  private static int status(int port, String path) {
    try {
      return Scrape.request(port, "GET", path).status();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static String[] with(String[] base, String... more) {
    String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }
}
