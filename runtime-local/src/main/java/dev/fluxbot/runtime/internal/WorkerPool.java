package dev.fluxbot.runtime.internal;

import dev.fluxbot.runtime.WorkerHealth;
import dev.fluxbot.runtime.WorkerReport;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers and what their health said last. {@link #refresh} asks every worker at once (on the
 * injected executor); {@link #acquire} picks, without I/O, the healthy worker with the least load:
 * its reported queue per batch slot plus the jobs this process has running on it.
 */
public final class WorkerPool {
  private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

  private final List<Member> members;
  private final Executor executor;

  /** Makes choosing a worker and counting the job on it one step; held for no I/O. */
  private final java.util.concurrent.locks.ReentrantLock choosing =
      new java.util.concurrent.locks.ReentrantLock();

  public WorkerPool(List<WorkerClient> clients, Executor executor) {
    this.members = clients.stream().map(Member::new).toList();
    this.executor = executor;
  }

  /** One worker: its client, its last report, our jobs on it. */
  private static final class Member {
    final WorkerClient client;
    final AtomicReference<Seen> seen;
    final AtomicInteger inFlight = new AtomicInteger();

    Member(WorkerClient client) {
      this.client = client;
      this.seen = new AtomicReference<>(new Seen(null, "has not been asked yet"));
    }

    WorkerReport report() {
      Seen s = seen.get();
      String problem = s.problem;
      if (problem == null && s.health != null && !s.health.ok()) {
        problem = "is still loading the model (status " + s.health.status() + ")";
      }
      return new WorkerReport(client.url(), s.health, problem, inFlight.get());
    }

    boolean healthy() {
      return report().healthy();
    }

    double load() {
      Seen s = seen.get();
      return s.health.load() + (double) inFlight.get() / s.health.batchCapacity();
    }
  }

  /** The last health and, when the last check failed, why; the health is kept across failures. */
  private record Seen(WorkerHealth health, String problem) {}

  /** A job's hold on a worker; closing it gives the slot back. */
  public final class Lease implements AutoCloseable {
    private final Member member;
    private boolean closed;

    private Lease(Member member) {
      this.member = member;
    }

    public WorkerClient client() {
      return member.client;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        member.inFlight.decrementAndGet();
      }
    }
  }

  /** Asks every worker's health now, all at once, and waits for the answers. */
  public void refresh() {
    List<CompletableFuture<Void>> checks = new ArrayList<>();
    for (Member m : members) {
      checks.add(CompletableFuture.runAsync(() -> check(m), executor));
    }
    checks.forEach(CompletableFuture::join);
  }

  private void check(Member m) {
    Seen before = m.seen.get();
    Seen now;
    try {
      now = new Seen(m.client.retrieveHealth(), null);
    } catch (InterruptedIOException e) {
      now =
          new Seen(
              before.health,
              e instanceof SocketTimeoutException
                  ? "is not answering (timed out)"
                  : "was not asked (interrupted)");
    } catch (IOException e) {
      now = new Seen(before.health, describe(e));
    }
    m.seen.set(now);
    boolean wasHealthy = before.problem == null && before.health != null && before.health.ok();
    boolean isHealthy = now.problem == null && now.health.ok();
    if (wasHealthy != isHealthy || (before.problem == null) != (now.problem == null)) {
      if (isHealthy) {
        log.info("local worker {}: healthy, {}", m.client.url(), now.health.describe());
      } else {
        log.warn("local worker {}: {}", m.client.url(), m.report().problem());
      }
    }
  }

  /** Why a worker could not be reached, in words ("is not answering (connection refused)"). */
  public static String describe(IOException e) {
    if (e instanceof ConnectException) {
      return "is not answering (connection refused)";
    }
    if (e instanceof SocketTimeoutException) {
      return "is not answering (timed out)";
    }
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return message.startsWith("answered")
            || message.startsWith("sent")
            || message.startsWith("the stream")
        ? message
        : "is not answering (" + message + ")";
  }

  /** Takes a slot on the least loaded healthy worker serving {@code model}; no I/O. */
  public Optional<Lease> acquire(String model) {
    return acquire(model, null);
  }

  /**
   * Like {@link #acquire(String)}, preferring any other worker to {@code avoid} (the one that just
   * lost the job); {@code avoid} is taken only when no other is healthy.
   */
  public Optional<Lease> acquire(String model, URI avoid) {
    Comparator<Member> order =
        Comparator.<Member>comparingInt(m -> m.client.url().equals(avoid) ? 1 : 0)
            .thenComparingDouble(Member::load);
    choosing.lock();
    try {
      Optional<Member> best =
          members.stream()
              .filter(m -> m.healthy() && model.equals(m.seen.get().health.model()))
              .min(order);
      best.ifPresent(m -> m.inFlight.incrementAndGet());
      return best.map(Lease::new);
    } finally {
      choosing.unlock();
    }
  }

  /** A worker broke off a job: it takes none until its health answers again. */
  public void markLost(URI url, String why) {
    for (Member m : members) {
      if (m.client.url().equals(url)) {
        m.seen.updateAndGet(s -> new Seen(s.health, why));
      }
    }
  }

  /** Every worker as last seen, in configuration order. */
  public List<WorkerReport> reports() {
    return members.stream().map(Member::report).toList();
  }

  /** The models the healthy workers serve. */
  public List<String> healthyModels() {
    return members.stream()
        .filter(Member::healthy)
        .map(m -> m.seen.get().health.model())
        .distinct()
        .toList();
  }

  /**
   * Whether any worker, healthy or not, last said it serves {@code model}, or never said anything.
   */
  public boolean mayServe(String model) {
    return members.stream()
        .anyMatch(m -> m.seen.get().health == null || model.equals(m.seen.get().health.model()));
  }
}
