package dev.fluxbot.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.ProgressListener;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.UserError.Code;
import dev.fluxbot.core.backend.BackendRouter;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.image.ImageInfo;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ReferenceImage;
import dev.fluxbot.runtime.internal.Generated;
import dev.fluxbot.runtime.internal.StreamEvent;
import dev.fluxbot.runtime.internal.WorkerClient;
import dev.fluxbot.runtime.internal.WorkerError;
import dev.fluxbot.runtime.internal.WorkerPool;
import dev.fluxbot.runtime.internal.WorkerSupervisor;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.math.BigDecimal;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FLUX.2 [klein] on local workers ({@code runtime-local/worker}, HTTP protocol v1).
 *
 * <p>Routing asks no worker: {@link #refusal} reads the health the pool polled last. A job goes to
 * the least loaded healthy worker serving its model. When that worker breaks off the job (it died,
 * dropped the connection, is shutting down or full), the job goes to another healthy worker, or
 * waits up to {@code requeueWait} for one (the restarted one), at most {@code maxAttempts} tries in
 * all; the user hears "worker restarted, retrying". {@link #generate} returns once, so the core
 * charges once. A worker's own words reach the user only for errors about the request or the GPU's
 * memory; other failures get a general message and a log line.
 */
public final class LocalKleinBackend
    implements ImageBackend, BackendRouter.Claiming, AutoCloseable, MeterBinder {
  private static final Logger log = LoggerFactory.getLogger(LocalKleinBackend.class);
  public static final String NAME = "local-klein";
  private static final long FIRST_RETRY_MILLIS = 250;
  private static final Duration FIRST_RETRY_WAIT = Duration.ofMillis(FIRST_RETRY_MILLIS);
  private static final Duration MAX_RETRY_WAIT = Duration.ofSeconds(5);
  private static final Duration BUSY_WAIT = Duration.ofSeconds(1);

  private final LocalRuntimeConfig config;
  private final BigDecimal imageCredits;
  private final InstantSource clock;
  private final Sleeper sleeper;
  private final Executor executor;
  private final OkHttpClient http;
  private final WorkerPool pool;
  private volatile WorkerSupervisor supervisor;
  private volatile boolean started;
  private final ObjectMapper mapper = new ObjectMapper();
  private volatile boolean closed;

  /**
   * @param imageCredits the price the core charges for a local image, reported as the result's cost
   * @param executor runs the health checks, the polling loop and the supervisor (virtual threads)
   */
  public LocalKleinBackend(
      LocalRuntimeConfig config,
      BigDecimal imageCredits,
      OkHttpClient http,
      InstantSource clock,
      Sleeper sleeper,
      Executor executor) {
    this.config = Objects.requireNonNull(config, "config");
    this.imageCredits = Objects.requireNonNull(imageCredits, "imageCredits");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
    this.executor = Objects.requireNonNull(executor, "executor");
    this.http = Objects.requireNonNull(http, "http");
    List<WorkerClient> clients =
        config.allWorkers().stream().map(url -> new WorkerClient(url, http)).toList();
    this.pool = new WorkerPool(clients, executor);
  }

  /** With the system clock, real sleeps, virtual threads and a client with loopback time-outs. */
  public static LocalKleinBackend create(LocalRuntimeConfig config, BigDecimal imageCredits) {
    return new LocalKleinBackend(
        config,
        imageCredits,
        defaultHttp(),
        InstantSource.system(),
        Sleeper.SYSTEM,
        Executors.newVirtualThreadPerTaskExecutor());
  }

  /** Connect in 3 s (loopback or LAN); a step may take minutes on a CPU or behind a full queue. */
  public static OkHttpClient defaultHttp() {
    return new OkHttpClient.Builder()
        .connectTimeout(Duration.ofSeconds(3))
        .readTimeout(Duration.ofMinutes(10))
        .writeTimeout(Duration.ofMinutes(1))
        .build();
  }

  public LocalRuntimeConfig config() {
    return config;
  }

  /**
   * Asks one worker's {@code /v1/health} once, outside any runtime: for {@code fluxbot doctor}.
   *
   * @throws IOException when the worker does not answer, or answers something else
   */
  public static WorkerHealth retrieveHealth(URI worker, OkHttpClient http) throws IOException {
    return new WorkerClient(worker, http).retrieveHealth();
  }

  /** Why a worker could not be reached, in words ("is not answering (connection refused)"). */
  public static String whyUnreachable(IOException e) {
    return WorkerPool.describe(e);
  }

  /**
   * Starts the spawned worker (if any), asks every worker's health once, then keeps asking every
   * {@code healthInterval} on the executor. Blocks only for the first round of health checks. The
   * worker package is extracted into the data folder first where a worker is spawned.
   */
  public void start() {
    if (started) {
      throw new IllegalStateException("the local klein runtime was already started");
    }
    started = true;
    LocalRuntimeConfig.Spawn spawn = config.spawn();
    if (spawn != null) {
      supervisor = WorkerSupervisor.extracting(spawn, http, clock, sleeper, executor);
      supervisor.start();
    }
    refreshHealth();
    executor.execute(this::pollHealth);
  }

  private void pollHealth() {
    try {
      while (!closed) {
        sleeper.sleep(config.healthInterval());
        if (!closed) {
          refreshHealth();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Asks every worker's health now and waits for the answers. */
  public void refreshHealth() {
    pool.refresh();
  }

  /** Every worker as the last health check saw it; no I/O. */
  public List<WorkerReport> workers() {
    return pool.reports();
  }

  /**
   * Gauges per worker URL from the last health check (no I/O at a scrape): {@code
   * fluxbot_local_worker_healthy} (1 or 0), {@code fluxbot_local_worker_load} (jobs at the worker
   * per batch slot, as its health said) and {@code fluxbot_local_worker_in_flight} (this fluxbot's
   * jobs on it).
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    for (URI url : config.allWorkers()) {
      String worker = url.toString();
      Gauge.builder(
              "fluxbot.local.worker.healthy",
              () -> report(url).map(r -> r.healthy() ? 1 : 0).orElse(0))
          .description("1 while the local klein worker is healthy, else 0")
          .tag("worker", worker)
          .register(registry);
      Gauge.builder(
              "fluxbot.local.worker.load",
              () ->
                  report(url)
                      .flatMap(WorkerReport::lastHealth)
                      .map(WorkerHealth::load)
                      .orElse(Double.NaN))
          .description("Jobs at the worker per batch slot, (waiting + running) / batch capacity")
          .tag("worker", worker)
          .register(registry);
      Gauge.builder(
              "fluxbot.local.worker.in.flight",
              () -> report(url).map(WorkerReport::inFlight).orElse(0))
          .description("This instance's jobs running on the worker")
          .tag("worker", worker)
          .register(registry);
    }
  }

  private Optional<WorkerReport> report(URI url) {
    return workers().stream().filter(r -> r.url().equals(url)).findFirst();
  }

  /** Asks every worker's health now: for {@code fluxbot doctor}. */
  public List<WorkerReport> retrieveWorkers() {
    refreshHealth();
    return workers();
  }

  /** The supervisor of the worker fluxbot starts itself, once {@link #start} started it. */
  Optional<WorkerSupervisor> supervisor() { // for tests: the supervisor is not API
    return Optional.ofNullable(supervisor);
  }

  /**
   * Waits until some worker is healthy (the spawned one may take minutes to load the model), asking
   * every worker's health as it waits.
   *
   * @return whether one is healthy
   */
  public boolean awaitHealthy(Duration timeout) throws InterruptedException {
    return poll(timeout, () -> workers().stream().filter(WorkerReport::healthy).findAny())
        .isPresent();
  }

  /**
   * Asks every worker's health, then {@code attempt}, until it gives a value or {@code timeout} has
   * passed; waits {@value #FIRST_RETRY_MILLIS} ms between rounds, doubling up to 5 s.
   */
  private <T> Optional<T> poll(Duration timeout, Supplier<Optional<T>> attempt)
      throws InterruptedException {
    Instant deadline = clock.instant().plus(timeout);
    Duration wait = FIRST_RETRY_WAIT;
    while (true) {
      refreshHealth();
      Optional<T> found = attempt.get();
      if (found.isPresent()) {
        return found;
      }
      Duration left = Duration.between(clock.instant(), deadline);
      if (left.isNegative() || left.isZero()) {
        return Optional.empty();
      }
      sleeper.sleep(wait.compareTo(left) > 0 ? left : wait);
      wait =
          wait.multipliedBy(2).compareTo(MAX_RETRY_WAIT) > 0
              ? MAX_RETRY_WAIT
              : wait.multipliedBy(2);
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Optional<String> refusal(GenerationRequest request) {
    String model = request.model().id();
    if (!request.model().local()) {
      return Optional.of("runs only the klein models on local workers; " + model + " is not one");
    }
    List<String> served = pool.healthyModels();
    if (served.contains(model)) {
      return Optional.empty();
    }
    if (!served.isEmpty()) {
      return Optional.of(
          "no healthy local worker serves "
              + model
              + " (they serve "
              + String.join(", ", served)
              + ")");
    }
    return Optional.of("local runtime unavailable: " + whyUnavailable());
  }

  /**
   * Klein requests stay local unless {@code fallback_to_bfl}: unless no worker serves that model at
   * all.
   */
  @Override
  public boolean claims(GenerationRequest request) {
    return !config.fallbackToBfl()
        && request.model().local()
        && pool.mayServe(request.model().id());
  }

  private String whyUnavailable() {
    return pool.reports().stream()
        .map(
            r -> "worker " + r.url() + " " + (r.problem() == null ? "is not healthy" : r.problem()))
        .collect(Collectors.joining("; "));
  }

  /** Why a try of a job ended without an answer; {@code busy}: the worker's queue was full. */
  private record Loss(URI worker, String why, boolean busy) {
    String text() {
      return "worker " + worker + " " + why;
    }
  }

  @Override
  public GenerationResult generate(GenerationJob job, ProgressListener progress) {
    Instant start = clock.instant();
    ObjectNode body = body(job);
    String model = job.request().model().id();
    Loss loss = null;
    try {
      for (int attempt = 1; attempt <= config.maxAttempts(); attempt++) {
        if (loss != null) {
          retrying(loss, attempt, progress);
        }
        try (WorkerPool.Lease lease = awaitWorker(model, loss == null ? null : loss.worker())) {
          WorkerClient worker = lease.client();
          log.info(
              "job {}: {} on local worker {} (attempt {})", job.id(), model, worker.url(), attempt);
          try {
            return result(
                job, worker, worker.generate(body, event -> report(event, progress)), start);
          } catch (WorkerError e) {
            if (!e.elsewhere()) {
              throw userError(job, worker, e);
            }
            boolean busy = e.code().equals("busy");
            loss = new Loss(worker.url(), busy ? "is full (busy)" : "is shutting down", busy);
          } catch (IOException e) {
            if (e instanceof InterruptedIOException && !(e instanceof SocketTimeoutException)) {
              throw (InterruptedIOException) e; // cancelled, not lost
            }
            loss = new Loss(worker.url(), WorkerPool.describe(e), false);
          }
          pool.markLost(loss.worker(), loss.why());
          log.warn(
              "job {}: {} (attempt {} of {})",
              job.id(),
              loss.text(),
              attempt,
              config.maxAttempts());
        }
      }
    } catch (InterruptedException | InterruptedIOException e) {
      Thread.currentThread().interrupt();
      throw new UserError(
          Code.CANCELLED, "The job was cancelled before the local worker finished it.", e);
    }
    throw lostEveryAttempt(loss);
  }

  /** Tells the user a try is repeated; after a full queue, waits longer with each attempt. */
  private void retrying(Loss loss, int attempt, ProgressListener progress)
      throws InterruptedException {
    progress.onProgress(
        Progress.of(
            Progress.Stage.RETRYING,
            loss.busy() ? "local worker busy, retrying" : "worker restarted, retrying"));
    if (loss.busy()) {
      sleeper.sleep(BUSY_WAIT.multipliedBy(attempt - 1)); // a full queue empties in seconds
    }
  }

  /** The error when every attempt ended without an answer, {@code last} being the last loss. */
  private UserError lostEveryAttempt(Loss last) {
    if (last.busy()) {
      return new UserError(
          Code.BACKEND_UNAVAILABLE,
          "The local klein workers are busy (last: "
              + last.text()
              + "). You were not charged; try again in a minute.");
    }
    return new UserError(
        Code.BACKEND_FAILED,
        "The local klein runtime lost this image "
            + config.maxAttempts()
            + " times (last: "
            + last.text()
            + "). You were not charged; try again in a minute, and tell an admin if it "
            + "repeats.");
  }

  /**
   * A healthy worker now, else one that becomes healthy within {@code requeueWait}; after a loss
   * (on {@code lostOn}), health is asked again first and another worker is preferred.
   */
  private WorkerPool.Lease awaitWorker(String model, URI lostOn) throws InterruptedException {
    Optional<WorkerPool.Lease> lease = lostOn != null ? Optional.empty() : pool.acquire(model);
    if (lease.isPresent()) {
      return lease.get();
    }
    return poll(config.requeueWait(), () -> pool.acquire(model, lostOn))
        .orElseThrow(
            () ->
                new UserError(
                    Code.BACKEND_UNAVAILABLE,
                    "Local runtime unavailable: "
                        + whyUnavailable()
                        + ". You were not charged; try again in a minute, and tell an admin if it lasts."));
  }

  private static void report(StreamEvent event, ProgressListener progress) {
    switch (event) {
      case StreamEvent.Queued q ->
          progress.onProgress(
              Progress.of(
                  Progress.Stage.QUEUED,
                  q.position() == 0
                      ? "next at the local worker"
                      : "position " + q.position() + " at the local worker"));
      case StreamEvent.Started s ->
          progress.onProgress(
              new Progress(
                  Progress.Stage.GENERATING,
                  0,
                  "started" + (s.batch() > 1 ? " in a batch of " + s.batch() : "")));
      case StreamEvent.Step s -> {
        if (s.steps() > 0 && s.step() >= 0 && s.step() <= s.steps()) {
          progress.onProgress(
              new Progress(
                  Progress.Stage.GENERATING,
                  (double) s.step() / s.steps(),
                  "step " + s.step() + "/" + s.steps()));
        }
      }
    }
  }

  ObjectNode body(GenerationJob job) {
    GenerationRequest r = job.request();
    ObjectNode body = mapper.createObjectNode();
    body.put("id", job.id());
    body.put("prompt", r.prompt());
    body.put("width", r.size().width());
    body.put("height", r.size().height());
    body.put("seed", r.seed());
    if (r.steps() != null) {
      body.put("steps", r.steps());
    } else {
      body.putNull("steps");
    }
    if (r.guidance() != null) {
      body.put("guidance", r.guidance());
    } else {
      body.putNull("guidance");
    }
    ArrayNode refs = body.putArray("references");
    for (ReferenceImage ref : job.references()) {
      refs.addObject().put("data", ref.base64());
    }
    body.put("output_format", r.format().apiName());
    return body;
  }

  private GenerationResult result(
      GenerationJob job, WorkerClient worker, Generated image, Instant start) {
    ImageInfo info =
        ImageInfo.probe(image.data())
            .orElseThrow(
                () ->
                    new UserError(
                        Code.BACKEND_FAILED,
                        "The local klein worker sent something that is not a PNG, JPEG or WebP image; try again."));
    ImageType declared = ImageType.fromName(image.format()).orElse(null);
    if (declared != info.type()) {
      log.warn(
          "job {}: worker {} said {} but sent {}",
          job.id(),
          worker.url(),
          image.format(),
          info.type().apiName());
    }
    long seed = image.seed() >= 0 ? image.seed() : job.seed();
    Duration elapsed = Duration.between(start, clock.instant());
    log.info(
        "job {}: local worker {} made {}x{} {} in {} ms (worker: {} ms)",
        job.id(),
        worker.url(),
        info.width(),
        info.height(),
        info.type().apiName(),
        elapsed.toMillis(),
        image.elapsedMs());
    String task = worker.url().getHost() + ":" + worker.url().getPort() + "/" + job.id();
    return new GenerationResult(
        image.data(),
        info.type(),
        info.width(),
        info.height(),
        seed,
        imageCredits,
        NAME,
        task,
        elapsed);
  }

  private static UserError userError(GenerationJob job, WorkerClient worker, WorkerError e) {
    String said = e.getMessage().isBlank() ? "no reason given" : e.getMessage();
    return switch (e.code()) {
      case "invalid_request" ->
          new UserError(
              Code.INVALID_OPTION,
              "The local klein worker refused the request: "
                  + said
                  + (said.endsWith(".") ? "" : ".")
                  + " Change that and try again.");
      case "too_many_references" -> new UserError(Code.TOO_MANY_REFERENCES, said);
      case "bad_image" -> new UserError(Code.INVALID_REFERENCE, said);
      case "prompt_too_long" -> new UserError(Code.PROMPT_TOO_LONG, said);
      case "out_of_memory" ->
          new UserError(
              Code.BACKEND_FAILED,
              "The local klein worker ran out of GPU memory: " + said + " You were not charged.");
      default -> {
        log.error(
            "job {}: local worker {} failed ({}): {}", job.id(), worker.url(), e.code(), said);
        yield new UserError(
            Code.BACKEND_FAILED,
            "The local klein worker could not make this image (job "
                + job.id()
                + "). You were not charged; try again, and tell an admin if it repeats.");
      }
    };
  }

  /** Stops polling and the spawned worker (SIGTERM, then a kill after the grace period). */
  @Override
  public void close() {
    closed = true;
    WorkerSupervisor s = supervisor;
    if (s != null) {
      s.close();
    }
  }
}
