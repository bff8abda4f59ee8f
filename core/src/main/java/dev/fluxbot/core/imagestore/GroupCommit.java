package dev.fluxbot.core.imagestore;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A group commit for the image stores: writers count what they wrote ({@link #added}), and one
 * background virtual thread, started on demand, waits {@code gatherMillis} for more, then runs
 * {@code round} (which forces everything written so far) and counts all that was added before the
 * round began as on disk. It keeps going while more was added meanwhile, and ends when nothing is
 * waiting. {@link #flush} waits for everything added before it.
 */
final class GroupCommit {
  private final String threadName;
  private final long gatherMillis;
  private final Runnable round;
  private final AtomicLong added = new AtomicLong();
  private final AtomicBoolean running = new AtomicBoolean();
  private final Object monitor = new Object();
  private long synced; // guarded by monitor

  GroupCommit(String threadName, long gatherMillis, Runnable round) {
    this.threadName = threadName;
    this.gatherMillis = gatherMillis;
    this.round = round;
  }

  /**
   * Counts {@code units} more written (images, bytes: the caller's choice) and makes sure a round
   * will force them.
   */
  void added(long units) {
    added.addAndGet(units);
    if (running.compareAndSet(false, true)) {
      Thread.ofVirtual().name(threadName).start(this::rounds);
    }
  }

  /** Waits until everything added before this call is forced to disk. */
  void flush() {
    long target = added.get();
    Monitors.awaitUninterruptibly(monitor, () -> synced >= target);
  }

  /** How many units added are not yet forced to disk. */
  long pending() {
    return added.get() - syncedNow();
  }

  private void rounds() {
    do {
      try {
        Thread.sleep(gatherMillis); // let the writes of jobs finishing together join one round
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // sync this round at once, then stop waiting
      }
      long target =
          added.get(); // all of it was written before it was counted, so this round forces it
      round.run();
      synchronized (monitor) {
        synced = Math.max(synced, target);
        monitor.notifyAll();
      }
      running.set(false);
    } while (pending() > 0 && running.compareAndSet(false, true));
  }

  private long syncedNow() {
    synchronized (monitor) {
      return synced;
    }
  }
}
