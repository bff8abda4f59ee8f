package dev.fluxbot.runtime.internal;

import dev.fluxbot.core.Sleeper;
import dev.fluxbot.runtime.LocalRuntimeConfig;
import dev.fluxbot.runtime.WorkerHealth;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one worker as a child process and keeps it running.
 *
 * <p>One loop (on the injected executor) starts the process, pipes its output to our log with a
 * {@code worker <port>:} prefix, waits for {@code /v1/health} to answer 200 (killing a start that
 * takes longer than the health timeout), and when the process exits waits {@link Backoff} before
 * starting it again. {@link #close} ends the loop, asks the process to stop (SIGTERM) and kills it
 * after the grace period. While another worker already answers on the port (one an earlier run left
 * behind), it starts none and uses that one. The loop never holds a lock while it waits.
 */
public final class WorkerSupervisor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WorkerSupervisor.class);
  private static final Duration HEALTH_POLL = Duration.ofMillis(250);
  private static final Duration OCCUPIED_RECHECK = Duration.ofSeconds(5);
  static final Duration DEFAULT_GRACE = Duration.ofSeconds(10);

  private final LocalRuntimeConfig.Spawn spawn;
  private final Path pythonPath;
  private final WorkerClient client;
  private final InstantSource clock;
  private final Sleeper sleeper;
  private final Executor executor;
  private final Backoff backoff;
  private final Duration grace;
  private final AtomicReference<Process> current = new AtomicReference<>();
  private final AtomicInteger starts = new AtomicInteger();
  private final AtomicInteger healthyStarts = new AtomicInteger();
  private volatile boolean closed;
  private volatile boolean started;

  /**
   * @param pythonPath the folder holding {@code fluxbot_klein/}, put first on {@code PYTHONPATH}
   */
  WorkerSupervisor(
      LocalRuntimeConfig.Spawn spawn,
      Path pythonPath,
      WorkerClient client,
      InstantSource clock,
      Sleeper sleeper,
      Executor executor,
      Backoff backoff,
      Duration grace) {
    this.spawn = Objects.requireNonNull(spawn, "spawn");
    this.pythonPath = Objects.requireNonNull(pythonPath, "pythonPath");
    this.client = Objects.requireNonNull(client, "client");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
    this.executor = Objects.requireNonNull(executor, "executor");
    this.backoff = Objects.requireNonNull(backoff, "backoff");
    this.grace = Objects.requireNonNull(grace, "grace");
  }

  /**
   * The supervisor of {@code spawn}'s worker: extracts the worker package into the spawn's data
   * folder now, and restarts with the default backoff and grace period.
   */
  public static WorkerSupervisor extracting(
      LocalRuntimeConfig.Spawn spawn,
      OkHttpClient http,
      InstantSource clock,
      Sleeper sleeper,
      Executor executor) {
    return new WorkerSupervisor(
        spawn,
        WorkerPackage.extract(spawn.dataDir()),
        new WorkerClient(spawn.url(), http),
        clock,
        sleeper,
        executor,
        Backoff.defaults(),
        DEFAULT_GRACE);
  }

  /** Starts the loop; returns at once. */
  public void start() {
    if (started) {
      throw new IllegalStateException("the supervisor of " + spawn.url() + " was already started");
    }
    started = true;
    executor.execute(this::loop);
  }

  /** How many times a process was started. */
  public int starts() {
    return starts.get();
  }

  /** How many starts reached a healthy {@code /v1/health}. */
  public int healthyStarts() {
    return healthyStarts.get();
  }

  /** The running process's id. */
  public OptionalLong pid() {
    Process p = current.get();
    return p != null && p.isAlive() ? OptionalLong.of(p.pid()) : OptionalLong.empty();
  }

  private void loop() {
    try {
      boolean toldOccupied = false;
      while (!closed) {
        if (occupied()) {
          if (!toldOccupied) {
            log.warn(
                "worker {}: a worker already answers on {} (one left from an earlier run?); using it, and "
                    + "starting none while it answers",
                spawn.listenPort(),
                spawn.url());
            toldOccupied = true;
          }
          sleeper.sleep(OCCUPIED_RECHECK);
          continue;
        }
        toldOccupied = false;
        Instant healthySince = runOnce();
        if (closed) {
          break;
        }
        Duration healthyFor =
            healthySince == null ? Duration.ZERO : Duration.between(healthySince, clock.instant());
        Duration wait = backoff.after(healthyFor);
        log.warn("worker {}: restarting in {} s", spawn.listenPort(), wait.toMillis() / 1000.0);
        sleeper.sleep(wait);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.error("worker {}: the supervisor stopped", spawn.listenPort(), e);
    }
  }

  /**
   * Starts the process and waits for it to exit; returns when it became healthy (null if never).
   */
  private Instant runOnce() throws InterruptedException {
    Process process;
    try {
      process = launch();
    } catch (IOException e) {
      log.error(
          "worker {}: cannot start {} ({}); check local.spawn",
          spawn.listenPort(),
          spawn.launcher().get(0),
          e.getMessage());
      return null;
    }
    current.set(process);
    if (closed) { // close() ran while this one started
      stop(process);
      return null;
    }
    int n = starts.incrementAndGet();
    log.info(
        "worker {}: started (pid {}, start {}): {}",
        spawn.listenPort(),
        process.pid(),
        n,
        String.join(" ", spawn.command()));
    executor.execute(() -> pipe(process));
    Instant healthySince = awaitHealthy(process);
    if (healthySince == null && process.isAlive() && !closed) {
      log.error(
          "worker {}: no healthy /v1/health within {} s; killing it",
          spawn.listenPort(),
          spawn.healthTimeout().toSeconds());
      process.destroyForcibly();
    }
    int code = process.waitFor();
    if (!closed) {
      log.warn("worker {}: exited with status {}", spawn.listenPort(), code);
    }
    return healthySince;
  }

  /**
   * Whether something already answers {@code /v1/health} on our port: then starting another would
   * fail to bind.
   */
  private boolean occupied() {
    try {
      client.retrieveHealth();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private Process launch() throws IOException {
    ProcessBuilder pb = new ProcessBuilder(spawn.command()).redirectErrorStream(true);
    String old = pb.environment().get("PYTHONPATH");
    pb.environment()
        .put(
            "PYTHONPATH",
            pythonPath + (old == null || old.isBlank() ? "" : java.io.File.pathSeparator + old));
    pb.environment().put("PYTHONUNBUFFERED", "1");
    return pb.start();
  }

  private void pipe(Process process) {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        log.info("worker {}: {}", spawn.listenPort(), line);
      }
    } catch (IOException e) {
      // the process ended and its pipe closed
    }
  }

  private Instant awaitHealthy(Process process) throws InterruptedException {
    Instant deadline = clock.instant().plus(spawn.healthTimeout());
    while (process.isAlive() && !closed && clock.instant().isBefore(deadline)) {
      try {
        WorkerHealth health = client.retrieveHealth();
        if (health.ok()) {
          healthyStarts.incrementAndGet();
          log.info("worker {}: healthy, {}", spawn.listenPort(), health.describe());
          return clock.instant();
        }
      } catch (IOException e) {
        // not listening yet
      }
      sleeper.sleep(HEALTH_POLL);
    }
    return null;
  }

  private void stop(Process process) throws InterruptedException {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      log.warn(
          "worker {}: did not stop within {} s; killing it", spawn.listenPort(), grace.toSeconds());
      process.destroyForcibly();
      process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Stops the loop and the process: SIGTERM, then a kill after the grace period. */
  @Override
  public void close() {
    closed = true;
    Process p = current.get();
    try {
      if (p != null) {
        stop(p);
        log.info("worker {}: stopped", spawn.listenPort());
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
