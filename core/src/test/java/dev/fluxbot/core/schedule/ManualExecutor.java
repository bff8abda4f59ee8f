package dev.fluxbot.core.schedule;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Executor;

/**
 * Holds each task until the test runs it, so a test decides when every job's task runs and ends.
 */
final class ManualExecutor implements Executor {
  private final Queue<Runnable> pending = new ArrayDeque<>();

  @Override
  public synchronized void execute(Runnable command) {
    pending.add(command);
  }

  synchronized int pending() {
    return pending.size();
  }

  /** Runs the oldest held task, on the calling thread. */
  void runNext() {
    Runnable next;
    synchronized (this) {
      next = pending.remove();
    }
    next.run();
  }

  /** Runs held tasks, including those handed over meanwhile, until none is left. */
  void runAll() {
    while (pending() > 0) {
      runNext();
    }
  }
}
