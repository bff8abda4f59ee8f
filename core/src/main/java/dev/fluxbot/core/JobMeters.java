package dev.fluxbot.core;

import dev.fluxbot.core.backend.BackendRouter;
import dev.fluxbot.core.store.JobStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;

/**
 * The jobs' meters, counted where {@link JobPipeline} decides a job's fate: {@code
 * fluxbot_jobs_total} (state {@code submitted}, then {@code succeeded}, {@code failed} or {@code
 * cancelled}), {@code fluxbot_job_seconds} (from the start of its run to its end), {@code
 * fluxbot_queue_wait_seconds} (from its row to the start of its run) and {@code
 * fluxbot_credits_charged_total}. A seed-cache answer is a job on backend {@code cache}. A request
 * refused before it became a job (bad input, quota) is no job and is not counted.
 */
final class JobMeters {
  static final String JOBS = "fluxbot.jobs";
  static final String JOB_TIME = "fluxbot.job";
  static final String QUEUE_WAIT = "fluxbot.queue.wait";
  static final String CREDITS = "fluxbot.credits.charged";

  /** Histogram buckets, in seconds: an image takes from about 0.3 s (cache, klein) to minutes. */
  static final Duration[] BUCKETS =
      seconds(0.3, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180);

  private final MeterRegistry registry;
  private final InstantSource clock;
  private final BackendRouter router;
  private final JobStore jobs;

  JobMeters(MeterRegistry registry, InstantSource clock, BackendRouter router, JobStore jobs) {
    this.registry = registry;
    this.clock = clock;
    this.router = router;
    this.jobs = jobs;
  }

  private static Duration[] seconds(double... values) {
    Duration[] out = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Duration.ofMillis(Math.round(values[i] * 1000));
    }
    return out;
  }

  /** A new job has its row and its hold, and waits or runs. */
  void submitted(JobStore.Job job, String backend) {
    count(job, backend, "submitted");
  }

  /** A job answered from the seed cache: submitted and succeeded at once. */
  void cacheHit(JobStore.Job job, long priceMilli) {
    count(job, "cache", "submitted");
    count(job, "cache", "succeeded");
    charged(job, "cache", BigDecimal.valueOf(priceMilli, 3));
  }

  /** A queued job that was cancelled before it ran. */
  void cancelled(JobStore.Job job) {
    count(job, backendOf(job), "cancelled");
  }

  /** A job the scheduler refused after its row was written. */
  void refused(JobStore.Job job, String backend) {
    count(job, backend, "failed");
  }

  /** A job that ended as failed outside a run (it could not be resumed); looks its row up. */
  void failed(String jobId) {
    jobs.find(jobId).ifPresent(j -> count(j, backendOf(j), "failed"));
  }

  /** The run of a job on {@code backend}, about to wait for room and start. */
  Run run(JobStore.Job job, String backend) {
    return new Run(job, backend);
  }

  /** One run of a job, from its start to its end. */
  final class Run {
    private final JobStore.Job job;
    private final String backend;
    private Instant start;

    private Run(JobStore.Job job, String backend) {
      this.job = job;
      this.backend = backend;
    }

    /** The run starts now: records how long the job waited since it was submitted. */
    void started() {
      start = clock.instant();
      Duration waited = Duration.between(job.createdAt(), start);
      Timer.builder(QUEUE_WAIT)
          .description("How long a job waited between its submission and the start of its run")
          .tags("backend", backend)
          .serviceLevelObjectives(BUCKETS)
          .register(registry)
          .record(waited.isNegative() ? Duration.ZERO : waited);
    }

    /** The image is stored and {@code charged} credits were charged. */
    void succeeded(BigDecimal charged) {
      end("succeeded");
      charged(job, backend, charged);
    }

    /** The run ended in {@code error} (a cancel while running is {@code cancelled}). */
    void ended(UserError error) {
      end(error.code() == UserError.Code.CANCELLED ? "cancelled" : "failed");
    }

    private void end(String state) {
      Instant from = start != null ? start : clock.instant(); // ended before it could start
      Timer.builder(JOB_TIME)
          .description("How long a job ran, from the start of its run to its end")
          .tags(tags(job, backend).and("state", state))
          .serviceLevelObjectives(BUCKETS)
          .register(registry)
          .record(Duration.between(from, clock.instant()));
      count(job, backend, state);
    }
  }

  private String backendOf(JobStore.Job job) {
    if (job.backend() != null) {
      return job.backend();
    }
    try {
      return router.route(job.request()).name();
    } catch (RuntimeException e) {
      return "none";
    }
  }

  private void count(JobStore.Job job, String backend, String state) {
    Counter.builder(JOBS)
        .description("Jobs by the state they reached: submitted, succeeded, failed, cancelled")
        .tags(tags(job, backend).and("state", state))
        .register(registry)
        .increment();
  }

  private void charged(JobStore.Job job, String backend, BigDecimal credits) {
    double amount = Optional.ofNullable(credits).map(BigDecimal::doubleValue).orElse(0.0);
    Counter counter =
        Counter.builder(CREDITS)
            .description("Credits charged to users for finished jobs (1 credit = $0.01)")
            .tags(tags(job, backend))
            .register(registry);
    if (amount > 0) {
      counter.increment(amount);
    }
  }

  private static Tags tags(JobStore.Job job, String backend) {
    return Tags.of(
        "model", job.request().model().id(),
        "backend", backend,
        "platform", job.requester().platform());
  }
}
