package dev.fluxbot.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.Progress;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.runtime.internal.WorkerSupervisor;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.FakeKleinWorkerMain;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The supervisor with {@link FakeKleinWorkerMain} as a real child process, started through the same
 * command line as the Python worker. These tests wait for real processes (bounded), and the restart
 * backoff's waits (checked in {@code internal.BackoffAndPackageTest}) are shortened to 50 ms.
 */
class WorkerSupervisorProcessTest {
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private LocalKleinBackend backend;

  @TempDir Path dir;

  @AfterEach
  void close() {
    if (backend != null) {
      backend.close();
    }
    executor.shutdownNow();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private LocalKleinBackend start(String... fakeOptions) throws Exception {
    return start(freePort(), fakeOptions);
  }

  private LocalKleinBackend start(int port, String... fakeOptions) throws Exception {
    // The class path goes in an argument file: spelled out, it pushes the worker's own arguments
    // past the first 4 KiB of the command line, all that ProcessHandle.Info reads back on Linux.
    Path classPath =
        Files.writeString(
            dir.resolve("classpath.args"),
            "-cp \"" + System.getProperty("java.class.path") + "\"\n");
    List<String> launcher =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + classPath,
                FakeKleinWorkerMain.class.getName()));
    launcher.addAll(List.of(fakeOptions));
    LocalRuntimeConfig.Spawn spawn =
        new LocalRuntimeConfig.Spawn(
            launcher,
            dir.resolve("klein-4b"),
            "cpu",
            "127.0.0.1",
            port,
            Duration.ofSeconds(60),
            dir.resolve("data"));
    Sleeper shortened =
        d -> Thread.sleep(Math.min(d.toMillis(), 50)); // backoff and retry waits, shortened
    backend =
        new LocalKleinBackend(
            LocalRuntimeConfig.of(List.of(), spawn, false)
                .withHealthInterval(Duration.ofMillis(200))
                .withRequeueWait(Duration.ofSeconds(60)),
            BigDecimal.ONE,
            LocalKleinBackend.defaultHttp(),
            InstantSource.system(),
            shortened,
            executor);
    backend.start();
    assertThat(backend.awaitHealthy(Duration.ofSeconds(60)))
        .as("the spawned worker became healthy")
        .isTrue();
    return backend;
  }

  @Test
  void theWorkerIsStartedRestartedWhenKilledAndStoppedOnClose() throws Exception {
    LocalKleinBackend b = start();
    WorkerSupervisor supervisor = b.supervisor().orElseThrow();
    long firstPid = supervisor.pid().orElseThrow();
    assertThat(ProcessHandle.of(firstPid).orElseThrow().info().commandLine().orElse(""))
        .contains(
            "serve --checkpoint " + dir.resolve("klein-4b") + " --device cpu --listen 127.0.0.1:");
    assertThat(b.generate(LocalKleinBackendTest.job(), p -> {}).width()).isEqualTo(768);

    ProcessHandle.of(firstPid).orElseThrow().destroyForcibly();
    Await.until(
        "a new worker process was started",
        Duration.ofSeconds(60), // another process
        () ->
            supervisor.starts() == 2
                && supervisor.pid().isPresent()
                && supervisor.pid().getAsLong() != firstPid);
    GenerationResult again = b.generate(LocalKleinBackendTest.job(), p -> {});
    assertThat(again.width()).isEqualTo(768);
    assertThat(supervisor.healthyStarts()).isEqualTo(2);

    long secondPid = supervisor.pid().orElseThrow();
    b.close();
    ProcessHandle second = ProcessHandle.of(secondPid).orElse(null);
    assertThat(second == null || !second.isAlive()).as("the worker stopped on close").isTrue();
    Thread.sleep(300); // longer than a health poll: no new start after close
    assertThat(supervisor.starts()).isEqualTo(2);
  }

  @Test
  void aWorkerThatDiesMidJobIsRestartedAndTheJobSucceedsOnIt() throws Exception {
    Path marker = dir.resolve("died-once");
    LocalKleinBackend b = start("--die-after-step", "2", "--die-once", marker.toString());
    List<Progress> progress = Collections.synchronizedList(new ArrayList<>());

    GenerationResult result = b.generate(LocalKleinBackendTest.job(), progress::add);

    assertThat(Files.exists(marker)).as("the first process died mid-stream").isTrue();
    assertThat(result.width()).isEqualTo(768);
    assertThat(b.supervisor().orElseThrow().starts()).isEqualTo(2);
    assertThat(progress)
        .extracting(Progress::detail)
        .containsSubsequence("step 2/4", "worker restarted, retrying", "step 4/4");
  }

  @Test
  void theWorkerPackageIsExtractedWhereThePythonPathPoints() throws Exception {
    start();
    try (var versions = Files.list(dir.resolve("data").resolve("worker"))) {
      List<Path> dirs = versions.toList();
      assertThat(dirs).hasSize(1);
      assertThat(dirs.get(0).resolve("fluxbot_klein").resolve("__init__.py")).isRegularFile();
      assertThat(dirs.get(0).resolve("fluxbot_klein").resolve("errors.py")).isRegularFile();
    }
  }

  @Test
  void aWorkerLeftOnThePortIsUsedAndNoSecondOneIsStarted() throws Exception {
    try (dev.fluxbot.testkit.FakeKleinWorker leftover =
        dev.fluxbot.testkit.FakeKleinWorker.start()) {
      LocalKleinBackend b = start(leftover.port());

      assertThat(b.generate(LocalKleinBackendTest.job(), p -> {}).width()).isEqualTo(768);
      assertThat(leftover.generates()).hasSize(1);
      assertThat(b.supervisor().orElseThrow().starts()).isZero();
    }
  }
}
