package dev.fluxbot.core.imagestore;

import java.util.function.BooleanSupplier;

/** Waiting on an object's monitor until a condition holds, as the stores' flush and close do. */
final class Monitors {
  private Monitors() {}

  /**
   * Waits on {@code monitor} (notified whenever {@code done} may have changed) until {@code done}
   * holds. An interrupt does not end the wait, which guards what is already under way; the thread's
   * interrupt is set again before returning.
   */
  static void awaitUninterruptibly(Object monitor, BooleanSupplier done) {
    synchronized (monitor) {
      boolean interrupted = false;
      while (!done.getAsBoolean()) {
        try {
          monitor.wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
