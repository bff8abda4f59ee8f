package dev.fluxbot.runtime;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Where the local klein runtime's workers are, and whether fluxbot starts one itself.
 *
 * @param workers base URLs of workers that run on their own ({@code http://127.0.0.1:8188})
 * @param spawn a worker fluxbot starts as a child process and restarts when it dies; null for none
 * @param fallbackToBfl whether klein requests may go to the BFL API while no worker is healthy
 * @param healthInterval how often each worker's {@code /v1/health} is asked
 * @param requeueWait how long a job waits for a healthy worker after its worker was lost
 * @param maxAttempts how many workers one job may be tried on (a lost worker costs one attempt)
 */
public record LocalRuntimeConfig(
    List<URI> workers,
    Spawn spawn,
    boolean fallbackToBfl,
    Duration healthInterval,
    Duration requeueWait,
    int maxAttempts) {

  public static final Duration DEFAULT_HEALTH_INTERVAL = Duration.ofSeconds(5);
  public static final Duration DEFAULT_REQUEUE_WAIT = Duration.ofMinutes(3);
  public static final int DEFAULT_MAX_ATTEMPTS = 3;

  public LocalRuntimeConfig {
    workers = List.copyOf(workers);
    Objects.requireNonNull(healthInterval, "healthInterval");
    Objects.requireNonNull(requeueWait, "requeueWait");
    for (URI url : workers) {
      checkUrl("workers", url);
    }
    if (workers.isEmpty() && spawn == null) {
      throw new IllegalArgumentException(
          "local: needs at least one worker URL in workers, or a spawn section");
    }
    if (healthInterval.isNegative() || healthInterval.isZero()) {
      throw new IllegalArgumentException(
          "local.health_interval: must be positive; got " + healthInterval);
    }
    if (requeueWait.isNegative()) {
      throw new IllegalArgumentException(
          "local.requeue_wait: must not be negative; got " + requeueWait);
    }
    if (maxAttempts < 1 || maxAttempts > 10) {
      throw new IllegalArgumentException("local.max_attempts: must be 1..10; got " + maxAttempts);
    }
  }

  /** With the default health interval, requeue wait and attempts. */
  public static LocalRuntimeConfig of(List<URI> workers, Spawn spawn, boolean fallbackToBfl) {
    return new LocalRuntimeConfig(
        workers,
        spawn,
        fallbackToBfl,
        DEFAULT_HEALTH_INTERVAL,
        DEFAULT_REQUEUE_WAIT,
        DEFAULT_MAX_ATTEMPTS);
  }

  public LocalRuntimeConfig withHealthInterval(Duration interval) {
    return new LocalRuntimeConfig(
        workers, spawn, fallbackToBfl, interval, requeueWait, maxAttempts);
  }

  public LocalRuntimeConfig withRequeueWait(Duration wait) {
    return new LocalRuntimeConfig(workers, spawn, fallbackToBfl, healthInterval, wait, maxAttempts);
  }

  /** Every worker the runtime talks to: the configured ones, then the spawned one. */
  public List<URI> allWorkers() {
    LinkedHashSet<URI> all = new LinkedHashSet<>(workers);
    if (spawn != null) {
      all.add(spawn.url());
    }
    return List.copyOf(all);
  }

  static void checkUrl(String field, URI url) {
    Objects.requireNonNull(url, field);
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (url.getHost() == null
        || !(scheme.equals("http") || scheme.equals("https"))
        || url.getRawQuery() != null) {
      throw new IllegalArgumentException(
          "local."
              + field
              + ": must be an http:// URL with a host and no query, e.g. "
              + "http://127.0.0.1:8188; got \""
              + url
              + "\"");
    }
  }

  /**
   * A worker fluxbot starts itself: {@code <launcher…> serve --checkpoint P --device D --listen
   * HOST:PORT}, with {@code PYTHONPATH} pointing at the worker package extracted from the jar.
   *
   * @param launcher the program and its first arguments, normally {@code [python, -m,
   *     fluxbot_klein]}
   * @param checkpoint the klein checkpoint (a Hugging Face folder or BFL's single file)
   * @param device {@code auto}, {@code cuda}, {@code cuda:N} or {@code cpu}
   * @param healthTimeout how long a start may take until {@code /v1/health} answers 200 (loading
   *     the model)
   * @param dataDir the package is extracted under {@code <dataDir>/worker/<hash>/}
   */
  public record Spawn(
      List<String> launcher,
      Path checkpoint,
      String device,
      String listenHost,
      int listenPort,
      Duration healthTimeout,
      Path dataDir) {
    public static final Duration DEFAULT_HEALTH_TIMEOUT = Duration.ofMinutes(10);
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8188;

    public Spawn {
      launcher = List.copyOf(launcher);
      Objects.requireNonNull(checkpoint, "checkpoint");
      Objects.requireNonNull(device, "device");
      Objects.requireNonNull(listenHost, "listenHost");
      Objects.requireNonNull(healthTimeout, "healthTimeout");
      Objects.requireNonNull(dataDir, "dataDir");
      if (launcher.isEmpty() || launcher.stream().anyMatch(String::isBlank)) {
        throw new IllegalArgumentException(
            "local.spawn.command: must name a program and its arguments; got " + launcher);
      }
      if (!device.matches("auto|cpu|cuda|cuda:\\d+|mps")) {
        throw new IllegalArgumentException(
            "local.spawn.device: must be auto, cpu, cuda, cuda:N or mps; got \"" + device + "\"");
      }
      if (listenHost.isBlank() || listenPort < 1 || listenPort > 65535) {
        throw new IllegalArgumentException(
            "local.spawn.listen: must be HOST:PORT with a port 1..65535, e.g. "
                + DEFAULT_HOST
                + ":"
                + DEFAULT_PORT
                + "; got \""
                + listenHost
                + ":"
                + listenPort
                + "\"");
      }
      if (healthTimeout.isNegative() || healthTimeout.isZero()) {
        throw new IllegalArgumentException(
            "local.spawn.health_timeout: must be positive; got " + healthTimeout);
      }
    }

    /** {@code [python, -m, fluxbot_klein]}: the launcher of the real worker. */
    public static List<String> pythonLauncher(String python) {
      return List.of(python, "-m", "fluxbot_klein");
    }

    /** The spawned worker's base URL. */
    public URI url() {
      String host = listenHost.contains(":") ? "[" + listenHost + "]" : listenHost;
      return URI.create("http://" + host + ":" + listenPort);
    }

    /** The whole command line. */
    public List<String> command() {
      List<String> command = new ArrayList<>(launcher);
      command.addAll(
          List.of(
              "serve",
              "--checkpoint",
              checkpoint.toString(),
              "--device",
              device,
              "--listen",
              listenHost + ":" + listenPort));
      return command;
    }
  }
}
