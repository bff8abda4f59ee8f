package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.core.chat.ChatConnection;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.runtime.LocalKleinBackend;
import dev.fluxbot.runtime.LocalRuntimeConfig;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ops listener over a real socket in front of a real core (SQLite, the fake BFL API, an
 * unreachable local klein worker with fallback to BFL) and a platform whose connection the test
 * sets: known jobs, then each series of {@code /metrics} and its value; {@code /readyz} with each
 * check; {@code /healthz}, 404 and 405; and the Grafana dashboard's queries against the series
 * exported here.
 */
class OpsMetricsTest {
  private static final String KEY = "sk-ops-metrics";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final double BUDGET_DOLLARS = 100;

  @RegisterExtension final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(KEY));

  @TempDir Path dir;

  private final FakeBflApi fake = bflFake.get();
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Platform telegram = new Platform("telegram");
  private Database db;
  private FluxbotCore core;
  private LocalKleinBackend local;
  private OpsServer ops;
  private int port;
  private URI deadWorker;

  /** A chat platform whose connection the test sets, as an adapter would report its own. */
  static final class Platform implements ChatConnection {
    private final String name;
    volatile Status status = Status.connected("test");

    Platform(String name) {
      this.name = name;
    }

    @Override
    public String platform() {
      return name;
    }

    @Override
    public Status connection() {
      return status;
    }
  }

  @BeforeEach
  void start() throws IOException {
    try (ServerSocket closed = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      deadWorker = URI.create("http://127.0.0.1:" + closed.getLocalPort());
    }
    db = Database.sqlite(dir.resolve("fluxbot.db"));
    start(KEY);
  }

  private void start(String key) {
    BflBackend bfl =
        new BflBackend(
            BflConfig.defaults(key == null ? null : Secret.of(key))
                .withBaseUrl(URI.create(fake.baseUrl()))
                .withPolling(Duration.ofMillis(50), Duration.ofMillis(200)),
            new OkHttpClient(),
            InstantSource.system(),
            Sleeper.SYSTEM,
            new Random(1));
    local =
        LocalKleinBackend.create(
            LocalRuntimeConfig.of(List.of(deadWorker), null, true), java.math.BigDecimal.ONE);
    local.start(); // one round of health checks: the worker does not answer
    core =
        FluxbotCore.builder(db)
            .imagesIn(dir.resolve("images"))
            .backends(local, bfl)
            .quotaSettings(
                new QuotaService.Settings(
                    ZoneOffset.UTC,
                    QuotaService.Period.DAY,
                    50_000,
                    2,
                    Math.round(BUDGET_DOLLARS * 100 * 1000)))
            .meters(registry)
            .build();
    Readiness readiness =
        new Readiness(db, core.quota(), bfl, local, () -> List.of((ChatConnection) telegram));
    ops =
        OpsServer.start(
            new InetSocketAddress("127.0.0.1", 0), registry, readiness, List.of(telegram));
    port = ops.address().getPort();
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    stop();
    registry.close();
  }

  private void stop() throws InterruptedException {
    ops.close();
    core.shutdown(Duration.ofSeconds(5));
    core.close();
    local.close();
    db.close();
  }

  private ImageReply imagine(String text) {
    return core.imagine()
        .imagine(
            new ImagineCommand(Requester.cli("alice"), text, Map.of(), List.of()),
            ChatReply.silent(),
            null);
  }

  @Test
  void knownJobsShowInEachSeriesWithTheirValues() throws Exception {
    fake.enqueue(
        Scenario.rateLimited(0),
        Scenario.ready().withCost(1.4),
        Scenario.ready().withCost(1.4),
        Scenario.ready().withCost(1.4),
        Scenario.error("the GPU caught fire"));
    imagine("a red fox in snow --seed 1");
    imagine("a blue fox in snow --seed 2");
    imagine("a green fox in snow --seed 3");
    assertThatThrownBy(() -> imagine("a fox that fails --seed 4")).isInstanceOf(UserError.class);
    ImageReply hit = imagine("a red fox in snow --seed 1");
    assertThat(hit.cached()).isTrue();

    System.gc(); // so that the GC's meters have a pause to show
    // the month's BFL spending is read from the database beside the scrape, which waits for it at
    // most a second: on a loaded machine the first scrape may show NaN, a later one the figure
    dev.fluxbot.testkit.Await.until(
        "a scrape with the BFL spending", Duration.ofSeconds(30), () -> !Double.isNaN(spent()));
    Scrape s = Scrape.metrics(port);
    String[] bfl = {"backend", "bfl", "model", "klein-4b", "platform", "cli"};
    assertThat(s.sum("fluxbot_jobs_total", with(bfl, "state", "submitted"))).isEqualTo(4);
    assertThat(s.sum("fluxbot_jobs_total", with(bfl, "state", "succeeded"))).isEqualTo(3);
    assertThat(s.sum("fluxbot_jobs_total", with(bfl, "state", "failed"))).isEqualTo(1);
    assertThat(s.sum("fluxbot_jobs_total", "backend", "cache", "state", "submitted")).isEqualTo(1);
    assertThat(s.sum("fluxbot_jobs_total", "backend", "cache", "state", "succeeded")).isEqualTo(1);
    assertThat(s.sum("fluxbot_jobs_total", "state", "cancelled")).isZero();

    assertThat(s.sum("fluxbot_job_seconds_count", with(bfl, "state", "succeeded"))).isEqualTo(3);
    assertThat(s.sum("fluxbot_job_seconds_count", with(bfl, "state", "failed"))).isEqualTo(1);
    assertThat(s.sum("fluxbot_job_seconds_sum", with(bfl, "state", "succeeded"))).isPositive();
    assertThat(s.find("fluxbot_job_seconds_bucket", with(bfl, "state", "succeeded")))
        .extracting(x -> x.labels().get("le"))
        .contains("0.3", "1.0", "10.0", "60.0", "120.0", "+Inf");
    assertThat(s.sum("fluxbot_job_seconds_bucket", with(bfl, "state", "succeeded", "le", "+Inf")))
        .isEqualTo(3);
    assertThat(s.sum("fluxbot_queue_wait_seconds_count", "backend", "bfl")).isEqualTo(4);
    assertThat(s.sum("fluxbot_queue_wait_seconds_bucket", "backend", "bfl", "le", "120.0"))
        .as("every job started within 2 minutes of its submission")
        .isEqualTo(4);

    assertThat(s.sum("fluxbot_queue_depth")).isZero();
    assertThat(s.sum("fluxbot_jobs_running")).isZero();
    assertThat(s.sum("fluxbot_seed_cache_lookups_total", "result", "hit")).isEqualTo(1);
    assertThat(s.sum("fluxbot_seed_cache_lookups_total", "result", "miss")).isEqualTo(4);
    assertThat(s.sum("fluxbot_credits_charged_total", bfl)).isCloseTo(4.2, within(1e-9));
    assertThat(s.sum("fluxbot_credits_charged_total", "backend", "cache")).isZero();
    assertThat(s.sum("fluxbot_bfl_spent_dollars"))
        .as("4.2 credits at $0.01")
        .isCloseTo(0.042, within(1e-9));
    assertThat(s.sum("fluxbot_bfl_budget_dollars")).isEqualTo(BUDGET_DOLLARS);

    assertThat(s.sum("fluxbot_bfl_http_requests_total", "endpoint", "submit", "outcome", "429"))
        .isEqualTo(1);
    assertThat(s.sum("fluxbot_bfl_http_requests_total", "endpoint", "submit", "outcome", "2xx"))
        .isEqualTo(4);
    assertThat(s.sum("fluxbot_bfl_http_requests_total", "endpoint", "poll", "outcome", "2xx"))
        .isEqualTo(fake.polls().size());
    assertThat(s.sum("fluxbot_bfl_http_requests_total", "endpoint", "download", "outcome", "2xx"))
        .isEqualTo(3);

    String worker = deadWorker.toString();
    assertThat(s.sum("fluxbot_local_worker_healthy", "worker", worker)).isZero();
    assertThat(s.find("fluxbot_local_worker_load", "worker", worker)).hasSize(1);
    assertThat(s.sum("fluxbot_local_worker_in_flight", "worker", worker)).isZero();
    assertThat(s.sum("fluxbot_platform_connected", "platform", "telegram")).isEqualTo(1);
    telegram.status = ChatConnection.Status.disconnected("test");
    assertThat(Scrape.metrics(port).sum("fluxbot_platform_connected", "platform", "telegram"))
        .isZero();

    assertThat(s.sum("jvm_memory_used_bytes", "area", "heap")).isPositive();
    assertThat(s.names())
        .contains(
            "jvm_gc_pause_seconds_count",
            "jvm_threads_live_threads",
            "process_cpu_usage",
            "process_uptime_seconds",
            "system_cpu_count");

    dashboardQueriesOnlyExportedSeries(s.names());
  }

  private double spent() {
    try {
      return Scrape.metrics(port).sum("fluxbot_bfl_spent_dollars");
    } catch (IOException e) {
      return Double.NaN;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Double.NaN;
    }
  }

  /** Every metric the Grafana dashboard queries is one this scrape has. */
  private static void dashboardQueriesOnlyExportedSeries(Set<String> exported) throws IOException {
    Path file = Path.of("..", "docs", "grafana-dashboard.json");
    JsonNode dashboard = JSON.readTree(Files.readString(file));
    assertThat(dashboard.path("templating").path("list").findValuesAsText("type"))
        .as("the Prometheus data source is a variable")
        .contains("datasource");
    Set<String> queried = new TreeSet<>();
    Pattern metric = Pattern.compile("\\b((?:fluxbot|jvm|process|system)_[a-z0-9_]+)");
    for (JsonNode expr : dashboard.findValues("expr")) {
      Matcher m = metric.matcher(expr.asText());
      while (m.find()) {
        queried.add(m.group(1));
      }
    }
    assertThat(queried).as("the dashboard queries fluxbot's series").hasSizeGreaterThan(10);
    assertThat(exported).containsAll(queried);
    for (JsonNode panel : dashboard.path("panels")) {
      assertThat(panel.path("datasource").path("uid").asText())
          .as("panel %s uses the data source variable", panel.path("title").asText())
          .isEqualTo("${datasource}");
    }
  }

  private static String[] with(String[] base, String... more) {
    String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  @Test
  void readyzNamesEachCheckAndHealthzAnswersWhileAlive() throws Exception {
    Scrape.Answer ready = Scrape.request(port, "GET", "/readyz");
    assertThat(ready.status()).as(ready.body()).isEqualTo(200);
    assertThat(ready.contentType()).isEqualTo("application/json");
    JsonNode body = JSON.readTree(ready.body());
    assertThat(body.path("ready").asBoolean()).isTrue();
    assertThat(JSON.convertValue(body.path("checks"), Map.class))
        .containsExactly(
            Map.entry("database", "ok"),
            Map.entry("telegram", "ok"),
            Map.entry("backend:bfl", "ok"),
            Map.entry("backend:local-klein", "no healthy worker"));

    Scrape.Answer health = Scrape.request(port, "GET", "/healthz");
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("ok\n");
    assertThat(Scrape.request(port, "HEAD", "/healthz").status()).isEqualTo(200);
    assertThat(Scrape.request(port, "GET", "/").status()).isEqualTo(404);
    assertThat(Scrape.request(port, "GET", "/metrics/x").status()).isEqualTo(404);
    assertThat(Scrape.request(port, "POST", "/readyz").status()).isEqualTo(405);
    assertThat(Scrape.request(port, "DELETE", "/metrics").status()).isEqualTo(405);
    Scrape.Answer metrics = Scrape.request(port, "GET", "/metrics");
    assertThat(metrics.contentType()).startsWith("text/plain; version=0.0.4");
  }

  @Test
  void aDisconnectedPlatformIsNotReady() throws Exception {
    telegram.status =
        ChatConnection.Status.disconnected("long polling: the last getUpdates failed");
    Scrape.Answer ready = Scrape.request(port, "GET", "/readyz");
    assertThat(ready.status()).isEqualTo(503);
    JsonNode body = JSON.readTree(ready.body());
    assertThat(body.path("ready").asBoolean()).isFalse();
    assertThat(body.path("checks").path("telegram").asText()).isEqualTo("disconnected");
    assertThat(body.path("details").path("telegram").asText())
        .isEqualTo("long polling: the last getUpdates failed");
    assertThat(body.path("checks").path("database").asText()).isEqualTo("ok");
  }

  @Test
  void aClosedDatabaseIsNotReadyButAlive() throws Exception {
    db.close();
    Scrape.Answer ready = Scrape.request(port, "GET", "/readyz");
    assertThat(ready.status()).isEqualTo(503);
    JsonNode body = JSON.readTree(ready.body());
    assertThat(body.path("checks").path("database").asText()).isEqualTo("error");
    assertThat(body.path("checks").path("backend:bfl").asText()).isEqualTo("unknown");
    assertThat(Scrape.request(port, "GET", "/healthz").status()).isEqualTo(200);
    assertThat(Scrape.request(port, "GET", "/metrics").status())
        .as("a scrape still answers; the spending shows NaN")
        .isEqualTo(200);
  }

  @Test
  void noBackendThatCanServeIsNotReady() throws Exception {
    stop();
    db = Database.sqlite(dir.resolve("fluxbot.db"));
    start(null); // BFL without a key, the local worker down
    Scrape.Answer ready = Scrape.request(port, "GET", "/readyz");
    assertThat(ready.status()).isEqualTo(503);
    JsonNode body = JSON.readTree(ready.body());
    assertThat(body.path("checks").path("backend:bfl").asText()).isEqualTo("no key");
    assertThat(body.path("checks").path("backend:local-klein").asText())
        .isEqualTo("no healthy worker");
    assertThat(body.path("checks").path("database").asText()).isEqualTo("ok");
    assertThat(body.path("checks").path("telegram").asText()).isEqualTo("ok");
  }

  @Test
  void aTakenPortIsOneClearLine() throws Exception {
    assertThatThrownBy(
            () ->
                OpsServer.start(
                    new InetSocketAddress("127.0.0.1", port), registry, null, List.of()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("ops.listen: cannot listen on 127.0.0.1:" + port)
        .hasMessageContaining("to a free HOST:PORT, or to off")
        .hasMessageNotContaining("\n");
  }
}
