package dev.fluxbot.testkit.telegram;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A request the fake keeps in flight: it has arrived but has no effect and no answer until the test
 * releases it (or the await timeout passes). For tests that force the order of two calls.
 */
public final class Hold {
  private final Duration timeout;
  private final CountDownLatch arrived = new CountDownLatch(1);
  private final CountDownLatch released = new CountDownLatch(1);

  Hold(Duration timeout) {
    this.timeout = timeout;
  }

  /** Waits until the held request has arrived. */
  public void awaitArrived() {
    try {
      if (!arrived.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(
            "The held request did not arrive within " + timeout.toMillis() + " ms");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for the held request", e);
    }
  }

  /** Lets the held request go on: its effect, then its answer. */
  public void release() {
    released.countDown();
  }

  void arriveAndWait() throws InterruptedException {
    arrived.countDown();
    released.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
