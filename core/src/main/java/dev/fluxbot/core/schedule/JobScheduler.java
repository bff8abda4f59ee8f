package dev.fluxbot.core.schedule;

import dev.fluxbot.core.schedule.JobBook.Job;
import dev.fluxbot.core.schedule.JobBook.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs jobs fairly: round-robin across users, at most {@link Settings#perUserCap} running jobs per
 * user and at most {@link Settings#backendCaps} per backend, with a queue position for each waiting
 * job. Pure in memory: a job it never ran stays QUEUED in the database and is submitted again after
 * a restart.
 *
 * <h2>Design notes</h2>
 *
 * <p><b>One lock, short critical sections.</b> A single {@link ReentrantLock} guards every field
 * below it and the {@code JobBook}: the users' FIFOs, the rotation, the running counts and the job
 * index. Nothing slow happens under it: no task, no listener, no {@link Executor#execute} (a direct
 * executor would run the task under the lock). Each operation costs O(users + queued jobs) under
 * the lock.
 *
 * <p><b>Dispatch invariant.</b> After every operation no user in the rotation could start its head
 * job. Only submit, cancel and completion can break that, so only they dispatch. Dispatch walks the
 * rotation from its front; a user who starts a job moves to the back, a user who cannot (at its
 * cap, or its head job's backend full) keeps its place, so it is first when its slot frees. It
 * walks again while a walk started something. The jobs it picks are handed to the executor after
 * the lock is released.
 *
 * <p><b>Listener events in order, outside the lock.</b> Events are appended to {@code outbox} while
 * the lock is held, so their order is the order of the state changes. After releasing the lock a
 * thread drains the outbox unless another thread already is (the {@code delivering} flag); the
 * draining thread re-checks the outbox after clearing the flag, so no event is stranded. So
 * callbacks never run under the lock and never concurrently, every job sees {@code queued* started
 * finished} in that order, and a callback may call back into the scheduler (its events are
 * delivered by the loop it is running in). Positions are recomputed, by simulating the rotation
 * with every cap free, after each change, and clamped so they never rise.
 *
 * <p><b>Cancellation.</b> {@code cancel} interrupts a running job's thread while holding the lock,
 * and the runner clears {@code Job.thread} under the lock before it frees the job's slots, so an
 * interrupt never lands on a thread that has moved on; the runner clears its own interrupt flag
 * after a cancelled task in case the executor reuses threads. A job cancelled after dispatch but
 * before its thread began skips its task and finishes normally.
 *
 * <p><b>Shutdown.</b> Stops accepting, takes the waiting jobs out, then waits on the {@code idle}
 * condition, signalled when the last running job ends, for at most the grace period. No polling.
 */
public final class JobScheduler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JobScheduler.class);

  /**
   * @param perUserCap how many jobs one user may have running at once
   * @param backendCaps how many jobs may run at once on each named backend; a backend not listed is
   *     unlimited
   * @param maxQueued how many jobs may wait before {@link #submit} refuses more
   */
  public record Settings(int perUserCap, Map<String, Integer> backendCaps, int maxQueued) {
    public Settings {
      if (perUserCap < 1) {
        throw new IllegalArgumentException(
            "perUserCap must be at least 1. Provided: " + perUserCap);
      }
      backendCaps = Map.copyOf(backendCaps);
      backendCaps.forEach(
          (backend, cap) -> {
            if (cap < 1) {
              throw new IllegalArgumentException(
                  "backendCaps[" + backend + "] must be at least 1. Provided: " + cap);
            }
          });
      if (maxQueued < 1) {
        throw new IllegalArgumentException("maxQueued must be at least 1. Provided: " + maxQueued);
      }
    }

    /**
     * Two jobs per user, 24 on {@code bfl} (one BFL key's limit of active tasks), 10,000 waiting.
     */
    public static Settings defaults() {
      return new Settings(2, Map.of("bfl", 24), 10_000);
    }
  }

  /** What a job's submitter hears. Callbacks may come from any thread and must not block. */
  public interface Listener {
    /** The job waits; {@code position} counts from 1, which means it starts next. Never rises. */
    void queued(int position);

    /** The job has its slots and is handed to the executor. */
    void started();

    /** After the task returned or threw, also when it was cancelled while running. */
    void finished();

    /** A listener that ignores every event. */
    Listener NONE =
        new Listener() {
          @Override
          public void queued(int position) {}

          @Override
          public void started() {}

          @Override
          public void finished() {}
        };
  }

  /**
   * @param initialPosition the job's first queue position, or 0 when it started at once
   */
  public record Ticket(String jobId, int initialPosition) {}

  private final Executor executor;
  private final Settings settings;
  private final Queue<Runnable> outbox = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean delivering = new AtomicBoolean();

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition idle = lock.newCondition();
  private final JobBook book;
  private boolean accepting = true;

  public JobScheduler(Executor executor, Settings settings) {
    this.executor = Objects.requireNonNull(executor, "executor");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.book = new JobBook(settings, outbox);
  }

  /** The caps it keeps. */
  public Settings settings() {
    return settings;
  }

  /**
   * Queues a job and starts it if its user and backend have room.
   *
   * @throws IllegalStateException after shutdown, when {@code maxQueued} jobs wait, or when a job
   *     with this id is already queued or running
   */
  public Ticket submit(
      String jobId, String userKey, String backend, Runnable task, Listener listener) {
    return submit(jobId, userKey, backend, task, listener, false);
  }

  /**
   * Like {@link #submit}, but a job that can start at once runs on the calling thread, and this
   * returns after its task ended: for a caller that would only wait for the job anyway (the
   * blocking {@code imagine}, a platform's per-command thread). It saves the two thread hand-offs
   * of a job that is not queued. A job that must wait is queued as by {@link #submit} and this
   * returns at once. Caps, fairness, cancellation (the calling thread is interrupted) and shutdown
   * (it waits for this job) are as for any job.
   *
   * @throws IllegalStateException as {@link #submit} does
   */
  public Ticket runOrSubmit(
      String jobId, String userKey, String backend, Runnable task, Listener listener) {
    return submit(jobId, userKey, backend, task, listener, true);
  }

  /**
   * Starts a job on the calling thread if it can start at once: its user has nothing waiting and is
   * under the per-user cap, and its backend is under its cap (so no waiting job is passed over).
   * The job then counts as running, and its listener hears {@code started}, until the returned slot
   * runs its task ({@link Slot#run}) or is given back ({@link Slot#release}). Otherwise this
   * returns empty and changes nothing; the caller {@link #submit}s the job instead.
   *
   * <p>For a caller that must know before the job starts whether it starts now: the imagine service
   * records such a job as running in the same transaction that creates it, one commit fewer than
   * creating it queued and marking it running when it starts.
   *
   * @throws IllegalStateException after shutdown, or when a job with this id is already queued or
   *     running
   */
  public Optional<Slot> tryStart(String jobId, String userKey, String backend, Listener listener) {
    Job job =
        new Job(
            Objects.requireNonNull(jobId, "jobId"),
            Objects.requireNonNull(userKey, "userKey"),
            Objects.requireNonNull(backend, "backend"),
            null,
            Objects.requireNonNull(listener, "listener"));
    lock.lock();
    try {
      checkOpen(jobId);
      if (!book.canStartNow(userKey, backend)) {
        return Optional.empty();
      }
      book.startNow(job);
      job.thread = Thread.currentThread();
    } finally {
      lock.unlock();
    }
    deliver();
    return Optional.of(new Slot(job));
  }

  /**
   * A job {@link #tryStart} started on the calling thread. Exactly one of {@link #run} and {@link
   * #release} frees it, on the thread that started it; a later call does nothing. {@link
   * JobScheduler#cancel} interrupts that thread, as for any running job, and a slot cancelled
   * before {@link #run} skips its task.
   */
  public final class Slot {
    private final Job job;
    private boolean ended;

    private Slot(Job job) {
      this.job = job;
    }

    /**
     * Runs the job's task here, then frees its slots (waiting jobs may start) and tells its
     * listener {@code finished}.
     */
    public void run(Runnable task) {
      Objects.requireNonNull(task, "task");
      if (ended) {
        return;
      }
      ended = true;
      runToEnd(job, task);
    }

    /** Frees the job's slots without running anything (the caller could not go on with it). */
    public void release() {
      if (!ended) {
        ended = true;
        end(job, true);
      }
    }
  }

  private Ticket submit(
      String jobId,
      String userKey,
      String backend,
      Runnable task,
      Listener listener,
      boolean callerRuns) {
    Job job =
        new Job(
            Objects.requireNonNull(jobId, "jobId"),
            Objects.requireNonNull(userKey, "userKey"),
            Objects.requireNonNull(backend, "backend"),
            Objects.requireNonNull(task, "task"),
            Objects.requireNonNull(listener, "listener"));
    List<Job> launches;
    int initialPosition;
    lock.lock();
    try {
      checkAccepts(jobId);
      book.enqueue(job);
      launches = book.dispatch();
      book.refreshPositions();
      initialPosition = job.position;
    } finally {
      lock.unlock();
    }
    boolean here = callerRuns && launches.remove(job);
    deliverThenLaunch(launches);
    if (here) {
      run(job);
    }
    return new Ticket(jobId, initialPosition);
  }

  private void checkAccepts(String jobId) {
    checkOpen(jobId);
    if (book.queued() >= settings.maxQueued()) {
      throw new IllegalStateException(
          "The job queue is full: "
              + book.queued()
              + " jobs wait (maxQueued "
              + settings.maxQueued()
              + "); job "
              + jobId
              + " was not accepted. Try again when some have finished.");
    }
  }

  /** Refuses a job after shutdown, and a second job with an id already queued or running. */
  private void checkOpen(String jobId) {
    if (!accepting) {
      throw new IllegalStateException(
          "The job scheduler is shut down; job " + jobId + " was not accepted.");
    }
    if (book.contains(jobId)) {
      throw new IllegalStateException(
          "Job id " + jobId + " is already queued or running; job ids must be unique.");
    }
  }

  /**
   * Removes a queued job (its listener hears nothing more) or interrupts a running one (its
   * listener hears {@code finished} when the task ends).
   *
   * @return false when no job with this id is queued or running
   */
  public boolean cancel(String jobId) {
    List<Job> launches = List.of();
    lock.lock();
    try {
      Job job = book.job(jobId);
      if (job == null) {
        return false;
      }
      if (job.state == State.RUNNING) {
        job.cancelled = true;
        if (job.thread != null) {
          job.thread.interrupt();
        }
        return true;
      }
      book.removeQueued(job);
      launches = book.dispatch();
      book.refreshPositions();
    } finally {
      lock.unlock();
    }
    deliverThenLaunch(launches);
    return true;
  }

  /** The job's queue position (1 = next), or empty when it is not waiting. */
  public OptionalInt position(String jobId) {
    lock.lock();
    try {
      Job job = book.job(jobId);
      return job == null || job.state != State.QUEUED
          ? OptionalInt.empty()
          : OptionalInt.of(job.position);
    } finally {
      lock.unlock();
    }
  }

  /** How many jobs wait. */
  public int queued() {
    lock.lock();
    try {
      return book.queued();
    } finally {
      lock.unlock();
    }
  }

  /** How many jobs run, counted from dispatch until their task ends. */
  public int running() {
    lock.lock();
    try {
      return book.running();
    } finally {
      lock.unlock();
    }
  }

  /** How many jobs run on {@code backend}. */
  public int running(String backend) {
    lock.lock();
    try {
      return book.running(backend);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops accepting jobs, takes the waiting ones out without starting them and waits up to {@code
   * grace} for the running ones to finish. Running jobs are not interrupted.
   *
   * @return the ids of the jobs that never started, in the order they would have started, so that
   *     submitting them again in this order rebuilds the same rotation
   */
  public List<String> shutdown(Duration grace) throws InterruptedException {
    lock.lock();
    try {
      accepting = false;
      List<String> neverStarted = new ArrayList<>(book.queued());
      for (Job job : book.inStartOrder()) {
        neverStarted.add(job.id);
        book.removeQueued(job);
      }
      long nanos = nanos(grace);
      while (book.running() > 0 && nanos > 0) {
        nanos = idle.awaitNanos(nanos);
      }
      return neverStarted;
    } finally {
      lock.unlock();
    }
  }

  private static long nanos(Duration grace) {
    try {
      return grace.toNanos();
    } catch (ArithmeticException tooLong) {
      return Long.MAX_VALUE;
    }
  }

  /** {@link #shutdown} with no grace, ignoring the never-started ids. */
  @Override
  public void close() {
    try {
      shutdown(Duration.ZERO);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- running (no lock held) ----

  private void deliverThenLaunch(List<Job> launches) {
    deliver();
    for (Job job : launches) {
      try {
        executor.execute(() -> run(job));
      } catch (RejectedExecutionException e) {
        log.warn( // the executor is shut down: the bot is stopping
            "Job {} could not start: the executor refused it ({}); its slots are freed",
            job.id,
            e.toString());
        end(job, false);
      }
    }
  }

  private void run(Job job) {
    runToEnd(job, job.task);
  }

  /**
   * Runs {@code task} for a started job unless it was cancelled first, then frees the job's slots.
   */
  private void runToEnd(Job job, Runnable task) {
    try {
      if (begin(job)) {
        task.run();
      }
    } catch (RuntimeException e) {
      log.error("Job {} on backend {} failed: its task threw", job.id, job.backend, e);
    } finally {
      end(job, true);
    }
  }

  private boolean begin(Job job) {
    lock.lock();
    try {
      job.thread = Thread.currentThread();
      return !job.cancelled;
    } finally {
      lock.unlock();
    }
  }

  private void end(Job job, boolean onJobThread) {
    List<Job> launches;
    lock.lock();
    try {
      job.thread = null;
      if (job.cancelled && onJobThread) {
        Thread.interrupted(); // our own cancel's interrupt must not reach the thread's next task
      }
      if (book.finish(job)) {
        idle.signalAll();
      }
      outbox.add(job.listener::finished);
      launches = book.dispatch();
      if (!launches.isEmpty()) {
        book.refreshPositions();
      }
    } finally {
      lock.unlock();
    }
    deliverThenLaunch(launches);
  }

  private void deliver() {
    while (!outbox.isEmpty() && delivering.compareAndSet(false, true)) {
      try {
        for (Runnable event; (event = outbox.poll()) != null; ) {
          fire(event);
        }
      } finally {
        delivering.set(false);
      }
    }
  }

  private static void fire(Runnable event) {
    try {
      event.run();
    } catch (RuntimeException e) {
      log.error("A job listener threw; the scheduler carries on", e);
    }
  }
}
