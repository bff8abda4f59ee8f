package dev.fluxbot.core;

import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.seedcache.SeedCache;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The core's gauges and counters that are read rather than counted: the queue and the running jobs
 * (from the scheduler's memory), the seed cache's lookups (from its counters), and the BFL spending
 * this month (from the database, read at most every {@link #SPEND_FRESH} and never holding a scrape
 * longer than {@link #SPEND_WAIT}). Each backend that is a {@link MeterBinder} binds its own. The
 * core's meters are removed again when it closes, so a rebuilt core on the same registry counts
 * anew.
 */
final class CoreMeters implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CoreMeters.class);

  /** How long a read of the BFL spending is used before the next scrape reads it again. */
  static final Duration SPEND_FRESH = Duration.ofSeconds(5);

  /** The longest a scrape waits for that read; past it, it shows the last value. */
  static final Duration SPEND_WAIT = Duration.ofSeconds(1);

  private final MeterRegistry registry;
  private final List<Meter> meters = new ArrayList<>();

  CoreMeters(
      MeterRegistry registry,
      JobScheduler scheduler,
      SeedCache cache,
      QuotaService quota,
      QuotaService.Settings quotaSettings,
      List<ImageBackend> backends) {
    this.registry = registry;
    meters.add(
        Gauge.builder("fluxbot.queue.depth", scheduler::queued)
            .description("Jobs waiting in this instance's queue")
            .register(registry));
    meters.add(
        Gauge.builder("fluxbot.jobs.running", scheduler::running)
            .description("Jobs running on this instance")
            .register(registry));
    for (String result : List.of("hit", "miss")) {
      meters.add(
          FunctionCounter.builder(
                  "fluxbot.seed.cache.lookups",
                  cache,
                  c -> result.equals("hit") ? c.hits() : c.misses())
              .description("Seed-cache lookups by this instance, by result: hit or miss")
              .tag("result", result)
              .register(registry));
    }
    Cached<QuotaService.BflSpend> spend = new Cached<>(quota::bflSpendThisMonth);
    meters.add(
        Gauge.builder(
                "fluxbot.bfl.spent.dollars",
                () -> spend.get() == null ? Double.NaN : dollars(spend.get().spentMilli()))
            .description("Dollars charged for BFL images this calendar month, all instances")
            .register(registry));
    Long cap = quotaSettings.monthlyBflSpendCapMilli();
    if (cap != null) {
      meters.add(
          Gauge.builder("fluxbot.bfl.budget.dollars", () -> dollars(cap))
              .description("quotas.monthly_bfl_budget_dollars: the BFL budget per calendar month")
              .register(registry));
    }
    for (ImageBackend backend : backends) {
      if (backend instanceof MeterBinder binder) {
        binder.bindTo(registry);
      }
    }
  }

  private static double dollars(long milli) {
    return QuotaService.BflSpend.dollars(milli);
  }

  @Override
  public void close() {
    meters.forEach(registry::remove);
  }

  /**
   * A value read at most every {@link #SPEND_FRESH}, by one reader at a time, on a thread of its
   * own; a caller waits at most {@link #SPEND_WAIT} and otherwise gets the last value (null before
   * the first, and after a failed read).
   */
  static final class Cached<T> {
    private final Supplier<T> read;
    private T value;
    private long readAt;
    private CompletableFuture<T> reading;

    Cached(Supplier<T> read) {
      this.read = read;
    }

    T get() {
      CompletableFuture<T> pending;
      synchronized (this) {
        if (reading == null
            && value != null
            && System.nanoTime() - readAt < SPEND_FRESH.toNanos()) {
          return value;
        }
        if (reading == null) {
          reading = CompletableFuture.supplyAsync(read, r -> Thread.ofVirtual().start(r));
          reading.whenComplete(this::done);
        }
        pending = reading;
      }
      try {
        return pending.get(SPEND_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        synchronized (this) {
          return value;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }

    private synchronized void done(T result, Throwable failure) {
      reading = null;
      readAt = System.nanoTime();
      if (failure != null) {
        log.debug("metrics: cannot read the BFL spending: {}", failure.toString());
      }
      value = failure == null ? result : null;
    }
  }
}
