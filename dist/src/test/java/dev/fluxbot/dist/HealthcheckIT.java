package dev.fluxbot.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The archive's {@code bin/fluxbot-healthcheck} (the container's HEALTHCHECK) against a real HTTP
 * server on loopback standing in for the ops listener.
 */
class HealthcheckIT {
  @TempDir static Path unpacked;
  @TempDir Path dir;

  static Path home;
  HttpServer server;
  final AtomicInteger status = new AtomicInteger(200);
  final AtomicReference<String> asked = new AtomicReference<>();

  @BeforeAll
  static void unpack() throws Exception {
    home = Archive.unpack(unpacked);
  }

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          asked.set(exchange.getRequestMethod() + " " + exchange.getRequestURI());
          byte[] body = "ready\n".getBytes();
          exchange.sendResponseHeaders(status.get(), body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private int port() {
    return server.getAddress().getPort();
  }

  private Processes.Result check(Map<String, String> extra, String... args) throws Exception {
    Map<String, String> env = new java.util.HashMap<>(Map.of("PATH", "/usr/bin:/bin"));
    env.putAll(extra);
    List<String> command =
        new ArrayList<>(List.of(home.resolve("bin/fluxbot-healthcheck").toString()));
    command.addAll(List.of(args));
    return Processes.run(dir, env, command);
  }

  @Test
  void readyIsExitZeroAndAsksReadyz() throws Exception {
    Processes.Result r = check(Map.of(), "http://127.0.0.1:" + port() + "/readyz");

    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out() + r.err()).isEmpty();
    assertThat(asked.get()).isEqualTo("GET /readyz");
  }

  @Test
  void withoutAUrlItAsksThePortOfFluxbotOpsListen() throws Exception {
    Processes.Result r = check(Map.of("FLUXBOT_OPS_LISTEN", "0.0.0.0:" + port()));

    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(asked.get()).isEqualTo("GET /readyz");
  }

  @Test
  void notReadyIsExitOneWithTheAnswer() throws Exception {
    status.set(503);

    Processes.Result r = check(Map.of(), "http://127.0.0.1:" + port() + "/readyz");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.errLines())
        .containsExactly(
            "fluxbot-healthcheck: http://127.0.0.1:"
                + port()
                + "/readyz answered 503 Service Unavailable");
  }

  @Test
  void nothingListeningIsExitOneInOneLine() throws Exception {
    int port = port();
    server.stop(0);

    Processes.Result r = check(Map.of(), "http://127.0.0.1:" + port + "/readyz");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.errLines())
        .containsExactly(
            "fluxbot-healthcheck: http://127.0.0.1:"
                + port
                + "/readyz: nothing is listening on 127.0.0.1:"
                + port
                + " (is fluxbot running, with its ops listener there?)");
  }
}
