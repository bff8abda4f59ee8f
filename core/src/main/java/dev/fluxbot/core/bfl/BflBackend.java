package dev.fluxbot.core.bfl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.ProgressListener;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.UserError.Code;
import dev.fluxbot.core.backend.BackendTask;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.http.RetryPolicy;
import dev.fluxbot.core.image.ImageInfo;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.math.BigDecimal;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The BFL FLUX.2 API: submit, poll the returned {@code polling_url}, download the result at once.
 *
 * <p>Retries follow BFL's own SDK: a 429 always (after {@code Retry-After}); a GET after a 5xx or
 * an I/O error; a POST only when the connection never opened — never after a 5xx or a read
 * time-out, since BFL may already have accepted and billed it. {@link RetryPolicy} sets the waits.
 * At most {@code maxActiveTasks} tasks are in flight per key; the rest wait for a slot.
 */
public final class BflBackend implements ImageBackend, MeterBinder {
  private static final Logger log = LoggerFactory.getLogger(BflBackend.class);
  private static final MediaType JSON = MediaType.get("application/json");
  private static final int MAX_TASK_NOT_FOUND = 3;
  private static final String CONNECTING = "connecting to BFL";

  private final BflConfig config;
  private final OkHttpClient http;
  private final OkHttpClient submitHttp;
  private final InstantSource clock;
  private final Sleeper sleeper;
  private final RetryPolicy retry;
  private final Semaphore slots;
  private final BflJson json;
  private final BflHttpMeters httpMeters = new BflHttpMeters();
  private volatile BflWebhooks hooks;

  public BflBackend(
      BflConfig config,
      OkHttpClient http,
      InstantSource clock,
      Sleeper sleeper,
      RandomGenerator random) {
    this.config = Objects.requireNonNull(config, "config");
    this.http = http.newBuilder().followRedirects(false).addInterceptor(httpMeters).build();
    // A fresh connection for every submit: a stale pooled one could fail after the POST was sent,
    // and OkHttp's silent retry would then send it twice.
    this.submitHttp =
        this.http
            .newBuilder()
            .retryOnConnectionFailure(false)
            .connectionPool(new okhttp3.ConnectionPool(0, 1, TimeUnit.SECONDS))
            .build();
    this.clock = Objects.requireNonNull(clock, "clock");
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
    // 429s wait out BFL's Retry-After until the deadline; maxRetries bounds the failures.
    this.retry = new RetryPolicy(config.maxRetries(), config.waitLimit(), clock, random);
    this.json = new BflJson(config);
    this.slots = new Semaphore(config.maxActiveTasks(), true);
  }

  /** With the system clock, real sleeps and a client with sensible time-outs. */
  public static BflBackend create(BflConfig config) {
    OkHttpClient http =
        new OkHttpClient.Builder()
            .connectTimeout(Duration.ofSeconds(10))
            .readTimeout(Duration.ofSeconds(60))
            .writeTimeout(Duration.ofSeconds(60))
            .build();
    return new BflBackend(
        config, http, InstantSource.system(), Sleeper.SYSTEM, new java.util.Random());
  }

  public BflConfig config() {
    return config;
  }

  /**
   * From now on, submits ask BFL to call {@code hooks}' URL when a task ends (the web server passes
   * the calls to {@code hooks}); polls go on as a safety net, slowly.
   */
  public void useWebhooks(BflWebhooks hooks) {
    this.hooks = hooks;
  }

  private BflWebhooks activeHooks() {
    BflWebhooks h = hooks;
    return h != null && h.active() ? h : null;
  }

  /** Counts each call to BFL in {@code fluxbot_bfl_http_requests_total} (see BflHttpMeters). */
  @Override
  public void bindTo(MeterRegistry registry) {
    httpMeters.bindTo(registry);
  }

  @Override
  public String name() {
    return "bfl";
  }

  @Override
  public Optional<String> refusal(GenerationRequest request) {
    if (config.apiKey() == null) {
      return Optional.of(
          "no API key is configured; set BFL_API_KEY (create a key at https://dashboard.bfl.ai)");
    }
    return Optional.empty();
  }

  @Override
  public GenerationResult generate(GenerationJob job, ProgressListener progress) {
    if (config.apiKey() == null) {
      throw new UserError(Code.BACKEND_UNAVAILABLE, "The BFL API has no key; set BFL_API_KEY.");
    }
    Instant start = clock.instant();
    Deadline deadline = new Deadline(start.plus(config.waitLimit()));
    try {
      acquireSlot(deadline, progress);
      try {
        Submitted task = submit(job, deadline);
        log.info(
            "job {}: BFL task {} submitted to {}",
            job.id(),
            task.id(),
            job.request().model().endpoint());
        progress.onTask(
            new BackendTask(name(), task.id(), task.pollingUrl().toString(), task.cost()));
        progress.onProgress(Progress.of(Progress.Stage.SUBMITTED, "task " + task.id()));
        return finish(job, task, start, deadline, progress);
      } finally {
        slots.release();
      }
    } catch (InterruptedException | InterruptedIOException e) {
      throw interrupted(e);
    }
  }

  @Override
  public boolean spendsBflCredits() {
    return true;
  }

  @Override
  public boolean canResume() {
    return true;
  }

  /**
   * Polls a task submitted before a restart from its stored polling URL; a new wait limit starts
   * now. BFL reports the cost only at submit: the result carries the cost stored with the task
   * (null for a task stored without one).
   */
  @Override
  public GenerationResult resume(GenerationJob job, BackendTask task, ProgressListener progress) {
    HttpUrl pollingUrl = task.resumeUrl() == null ? null : HttpUrl.parse(task.resumeUrl());
    if (config.apiKey() == null || pollingUrl == null) {
      throw new UserError(
          Code.BACKEND_UNAVAILABLE,
          "BFL task "
              + task.taskId()
              + " cannot be resumed ("
              + (pollingUrl == null ? "no polling URL was stored" : "no API key")
              + ").");
    }
    Instant start = clock.instant();
    Deadline deadline = new Deadline(start.plus(config.waitLimit()));
    try {
      acquireSlot(deadline, progress);
      try {
        log.info("job {}: resuming BFL task {}", job.id(), task.taskId());
        BflWebhooks hooks = activeHooks();
        boolean guessed = pollingUrl.equals(json.getResult(task.taskId()));
        return finish(
            job,
            new Submitted(
                task.taskId(), pollingUrl, task.cost(), hooks != null && guessed, guessed),
            start,
            deadline,
            progress);
      } finally {
        slots.release();
      }
    } catch (InterruptedException | InterruptedIOException e) {
      throw interrupted(e);
    }
  }

  private GenerationResult finish(
      GenerationJob job,
      Submitted task,
      Instant start,
      Deadline deadline,
      ProgressListener progress)
      throws InterruptedException, InterruptedIOException {
    Ready ready = poll(task, job, deadline, progress);
    progress.onProgress(Progress.of(Progress.Stage.DOWNLOADING, ""));
    byte[] bytes = download(ready.sample(), task.id(), deadline);
    ImageInfo info =
        ImageInfo.probe(bytes)
            .orElseThrow(
                () ->
                    new UserError(
                        Code.BACKEND_FAILED,
                        "BFL task "
                            + task.id()
                            + " returned something that is not a PNG, JPEG or WebP image; try again."));
    long seed = ready.seed() != null ? ready.seed() : job.seed();
    Duration elapsed = Duration.between(start, clock.instant());
    log.info(
        "job {}: BFL task {} ready, {}x{} {}, cost {}, {} ms",
        job.id(),
        task.id(),
        info.width(),
        info.height(),
        info.type().apiName(),
        task.cost(),
        elapsed.toMillis());
    return new GenerationResult(
        bytes,
        info.type(),
        info.width(),
        info.height(),
        seed,
        task.cost(),
        name(),
        task.id(),
        elapsed);
  }

  private static UserError interrupted(Exception e) {
    if (e instanceof SocketTimeoutException ste) {
      return new UserError(
          Code.BACKEND_FAILED,
          "BFL did not answer in time (" + ste.getMessage() + "); try again.",
          e);
    }
    Thread.currentThread().interrupt();
    return new UserError(Code.CANCELLED, "The job was cancelled before BFL finished it.", e);
  }

  private void acquireSlot(Deadline deadline, ProgressListener progress)
      throws InterruptedException {
    boolean told = false;
    while (!slots.tryAcquire(config.pollInterval().toMillis(), TimeUnit.MILLISECONDS)) {
      if (!told) {
        progress.onProgress(
            Progress.of(
                Progress.Stage.WAITING_FOR_SLOT,
                "waiting for a free BFL slot (" + config.maxActiveTasks() + " in flight)"));
        told = true;
      }
      deadline.check(clock, "waiting for a free BFL slot");
    }
  }

  // --- submit ---

  /**
   * A task BFL took.
   *
   * @param webhook BFL calls back when it ends
   * @param guessedUrl BFL sent no polling URL (a webhook submit); this one is {@code
   *     <base>/v1/get_result}
   */
  record Submitted(
      String id, HttpUrl pollingUrl, BigDecimal cost, boolean webhook, boolean guessedUrl) {}

  private Submitted submit(GenerationJob job, Deadline deadline)
      throws InterruptedException, InterruptedIOException {
    BflWebhooks hooks = activeHooks();
    HttpUrl url =
        HttpUrl.get(config.baseUrl().resolve(job.request().model().endpoint()).toString());
    Request request =
        new Request.Builder()
            .url(url)
            .header("x-key", config.apiKey().reveal())
            .header("accept", "application/json")
            .tag(BflHttpMeters.Endpoint.class, BflHttpMeters.Endpoint.SUBMIT)
            .post(RequestBody.create(json.body(job, hooks), JSON))
            .build();
    int connectFailures = 0;
    int rateLimited = 0;
    while (true) {
      deadline.check(clock, "submitting to BFL");
      try (Response response = submitHttp.newCall(request).execute()) {
        String text = response.body().string();
        if (response.code() == 200) {
          return json.submitted(text, hooks != null);
        }
        if (response.code() == 429) {
          sleepBefore(deadline, rateLimitWait(response, ++rateLimited), "BFL is busy (429)");
          continue;
        }
        throw json.submitError(response.code(), text, job);
      } catch (InterruptedIOException e) {
        if (!(e instanceof SocketTimeoutException timeout)) {
          throw e;
        }
        // Only a connect time-out is retried: after a read time-out BFL may have billed the POST.
        Optional<Duration> wait =
            isConnectTimeout(e)
                ? retry.next(++connectFailures, Optional.empty())
                : Optional.empty();
        sleepBefore(
            deadline, wait.orElseThrow(() -> json.submitTimedOut(job, timeout)), CONNECTING);
      } catch (ConnectException | UnknownHostException | NoRouteToHostException e) {
        int tries = ++connectFailures;
        Optional<Duration> wait = retry.next(tries, Optional.empty());
        sleepBefore(deadline, wait.orElseThrow(() -> json.unreachable(url, e, tries)), CONNECTING);
      } catch (IOException e) {
        throw json.submitBroke(e);
      }
    }
  }

  private static boolean isConnectTimeout(IOException e) {
    return e.getMessage() != null && e.getMessage().toLowerCase(Locale.ROOT).contains("connect");
  }

  // --- poll ---

  record Ready(HttpUrl sample, Long seed) {}

  private Ready poll(
      Submitted task, GenerationJob job, Deadline deadline, ProgressListener progress)
      throws InterruptedException, InterruptedIOException {
    BflWebhooks hooks = task.webhook() ? this.hooks : null;
    PollPlan plan =
        hooks != null ? PollPlan.webhook(hooks) : PollPlan.polling(config, job.request().model());
    PollState state =
        new PollState(
            task,
            new Request.Builder()
                .url(task.pollingUrl())
                .header("x-key", config.apiKey().reveal())
                .header("accept", "application/json")
                .tag(BflHttpMeters.Endpoint.class, BflHttpMeters.Endpoint.POLL)
                .get()
                .build());
    try (BflWebhooks.Waiter call = hooks == null ? null : hooks.expect(task.id())) {
      while (true) {
        Duration wait = plan.next();
        JsonNode node = null;
        if (call != null) {
          deadline.check(clock, "waiting for BFL task " + task.id());
          node =
              call.await(PollState.min(wait, deadline.remaining(clock)))
                  .or(() -> hooks.handedOver(task.id())) // it reached another instance
                  .orElse(null);
          state.heard |= node != null;
          if (node != null && !node.path("status").isTextual()) {
            node = null; // a call we cannot read: ask BFL at once
          } else if (node == null && !state.canPoll) {
            state.waitedWithoutCall(hooks, wait);
            continue;
          }
        }
        if (node == null) {
          if (call == null) {
            sleepBefore(deadline, wait, "waiting for BFL task " + task.id());
          }
          node = pollOnce(state, deadline);
          if (node == null) {
            continue;
          }
          if (call != null && state.guessedUrlUnknown(node)) {
            continue;
          }
        }
        Ready ready = answer(task, node, state, progress);
        if (ready != null) {
          if (call != null && !state.heard) {
            hooks.missed(task.id());
          }
          return ready;
        }
      }
    }
  }

  /** One poll's status, as a poll or a call said it: the result, a failure, or progress. */
  private Ready answer(Submitted task, JsonNode node, PollState state, ProgressListener progress) {
    String status = node.path("status").asText("");
    switch (status) {
      case "Ready" -> {
        return json.ready(task, node);
      }
      case "Request Moderated", "Content Moderated" -> throw json.moderated(status, node);
      case "Error" -> throw json.failed(task, node);
      case "Task not found" -> {
        if (++state.notFound >= MAX_TASK_NOT_FOUND) {
          throw json.gone(task);
        }
      }
      default -> state.report(progress, status, node);
    }
    return null;
  }

  /** Asks BFL once; null when the answer was a failure that is retried after a wait. */
  private JsonNode pollOnce(PollState state, Deadline deadline)
      throws InterruptedException, InterruptedIOException {
    Submitted task = state.task;
    try (Response response = http.newCall(state.request).execute()) {
      String text = response.body().string();
      if (response.code() == 429) {
        sleepBefore(deadline, rateLimitWait(response, ++state.rateLimited), "BFL is busy (429)");
        return null;
      }
      if (response.code() >= 500) {
        state.failures = pollFailed(task, state.failures, deadline, "HTTP " + response.code());
        return null;
      }
      JsonNode node = json.pollAnswer(task, response.code(), text);
      state.failures = 0;
      return node;
    } catch (InterruptedIOException e) {
      if (!(e instanceof SocketTimeoutException)) {
        throw e;
      }
      state.failures = pollFailed(task, state.failures, deadline, "time-out");
    } catch (IOException e) {
      state.failures = pollFailed(task, state.failures, deadline, e.getClass().getSimpleName());
    }
    return null;
  }

  private int pollFailed(Submitted task, int failures, Deadline deadline, String what)
      throws InterruptedException {
    Optional<Duration> wait = retry.next(failures + 1, Optional.empty());
    if (wait.isEmpty()) {
      throw new UserError(
          Code.BACKEND_FAILED,
          "Lost contact with BFL while waiting for task "
              + task.id()
              + " ("
              + what
              + ", "
              + (failures + 1)
              + " times in a row); try again later.");
    }
    log.warn("BFL poll for task {} failed ({}); retrying", task.id(), what);
    sleepBefore(deadline, wait.get(), "retrying the poll of task " + task.id());
    return failures + 1;
  }

  // --- download ---

  private byte[] download(HttpUrl sample, String taskId, Deadline deadline)
      throws InterruptedException, InterruptedIOException {
    Request request = // no x-key: a delivery host
        new Request.Builder()
            .url(sample)
            .tag(BflHttpMeters.Endpoint.class, BflHttpMeters.Endpoint.DOWNLOAD)
            .get()
            .build();
    int failures = 0;
    while (true) {
      deadline.check(clock, "downloading the result of task " + taskId);
      try (Response response = http.newCall(request).execute()) {
        if (response.code() == 200) {
          long declared = response.body().contentLength();
          if (declared > config.maxResultBytes()) {
            throw json.tooBig(taskId);
          }
          byte[] bytes = readAtMost(response, config.maxResultBytes());
          if (bytes == null) {
            throw json.tooBig(taskId);
          }
          return bytes;
        }
        if (response.code() < 500 && response.code() != 429) {
          throw new UserError(
              Code.BACKEND_FAILED,
              "The image of BFL task "
                  + taskId
                  + " could not be downloaded ("
                  + response.code()
                  + "; the link lasts 10 minutes). Try again.");
        }
      } catch (InterruptedIOException e) {
        if (!(e instanceof SocketTimeoutException)) {
          throw e;
        }
      } catch (IOException e) {
        log.warn("download of task {} failed: {}", taskId, e.getClass().getSimpleName());
      }
      Optional<Duration> wait = retry.next(++failures, Optional.empty());
      if (wait.isEmpty()) {
        throw new UserError(
            Code.BACKEND_FAILED,
            "The image of BFL task "
                + taskId
                + " could not be downloaded after "
                + failures
                + " tries; try again.");
      }
      sleepBefore(deadline, wait.get(), "retrying the download of task " + taskId);
    }
  }

  private static byte[] readAtMost(Response response, long max) throws IOException {
    okio.BufferedSource source = response.body().source();
    okio.Buffer buffer = new okio.Buffer();
    while (buffer.size() <= max) {
      if (source.read(buffer, 64 * 1024) == -1) {
        return buffer.readByteArray();
      }
    }
    return null;
  }

  // --- time ---

  /** The moment a job gives up; all waiting goes through it. */
  private final class Deadline {
    private final Instant at;

    Deadline(Instant at) {
      this.at = at;
    }

    void check(InstantSource clock, String doing) {
      if (!clock.instant().isBefore(at)) {
        throw new UserError(
            Code.TIMED_OUT,
            "BFL did not finish within "
                + config.waitLimit().toSeconds()
                + " s (gave up while "
                + doing
                + "). Try again later, or use a faster model.");
      }
    }

    Duration remaining(InstantSource clock) {
      return Duration.between(clock.instant(), at);
    }
  }

  private void sleepBefore(Deadline deadline, Duration wait, String doing)
      throws InterruptedException {
    deadline.check(clock, doing);
    Duration remaining = deadline.remaining(clock);
    sleeper.sleep(wait.compareTo(remaining) > 0 ? remaining : wait);
    deadline.check(clock, doing);
  }

  /** 0.5·2^(n−1) s with full jitter, capped at 30 s: BFL's SDK policy. */
  Duration backoff(int attempt) {
    return retry.backoff(attempt);
  }

  /** {@code Retry-After} in seconds or as an HTTP date; without one, the backoff. */
  private Duration rateLimitWait(Response response, int attempt) {
    return retry.delay(attempt, retry.retryAfter(response.header("Retry-After")));
  }
}
