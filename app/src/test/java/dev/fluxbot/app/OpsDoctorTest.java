package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fluxbot doctor} on the ops listener and the BFL budget, in process. */
class OpsDoctorTest {
  @TempDir Path dir;
  private Path config;

  @BeforeEach
  void config() throws Exception {
    config = dir.resolve("fluxbot.yaml");
    Files.writeString(
        config,
        "storage:\n  data_dir: "
            + dir.resolve("data")
            + "\nquotas:\n  monthly_bfl_budget_dollars: 5\n");
  }

  private String doctor(String opsListen) {
    Map<String, String> env = new HashMap<>();
    env.put("BFL_API_KEY", "sk-doctor");
    env.put("FLUXBOT_TELEGRAM_TOKEN", "123:abc");
    env.put(Environment.OPS_LISTEN, opsListen);
    StringWriter out = new StringWriter();
    Main.run(
        new String[] {"doctor", "--config=" + config},
        new Environment(env),
        new PrintWriter(out, true),
        new PrintWriter(new StringWriter(), true));
    return out.toString();
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void aFreeAddressIsWhereRunWillServe() throws Exception {
    int port = freePort();
    Main.run( // the database, which doctor reads but never creates
        new String[] {"quota", "--config=" + config, "show", "--user", "cli:bob"},
        new Environment(Map.of()),
        new PrintWriter(new StringWriter(), true),
        new PrintWriter(new StringWriter(), true));
    assertThat(doctor("127.0.0.1:" + port))
        .contains("ok    ops: run will serve /healthz, /readyz and /metrics on 127.0.0.1:" + port)
        .contains("ok    bfl budget: $0.00 of $5.00 spent this month ($0.00 held by jobs in")
        .endsWith("All is well.\n");
  }

  @Test
  void offIsANote() {
    assertThat(doctor("off"))
        .contains("--    ops: off; run serves no /healthz, /readyz or /metrics (ops.listen)");
  }

  @Test
  void aPortTakenByAnotherProgramFailsAndOneARunningFluxbotServesIsFine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      assertThat(doctor("127.0.0.1:" + taken.getLocalPort()))
          .contains(
              "FAIL  ops: 127.0.0.1:"
                  + taken.getLocalPort()
                  + " is taken by another program; run would stop there. Set ops.listen or"
                  + " FLUXBOT_OPS_LISTEN to a free HOST:PORT, or to off")
          .contains("1 problem(s) found");
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (OpsServer running =
        OpsServer.start(new InetSocketAddress("127.0.0.1", 0), registry, null, List.of())) {
      int port = running.address().getPort();
      assertThat(doctor("127.0.0.1:" + port))
          .contains(
              "ok    ops: a running fluxbot serves 127.0.0.1:" + port + " (/healthz answers ok)")
          .endsWith("All is well.\n");
    }
  }
}
