package dev.fluxbot.testkit;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Bounded waits for tests: polls a condition every {@value #POLL_MILLIS} ms until it holds, and
 * fails with an {@link AssertionError} that names what was awaited (and the last value seen) when
 * the timeout passes first. A probe runs on the calling thread; what it throws ends the wait.
 *
 * <pre>{@code
 * Await.until("a getUpdates held", Duration.ofSeconds(20), () -> telegram.heldPolls() > 0);
 * Job job = Await.present("the job", WAIT, () -> jobs.find(id));
 * }</pre>
 */
public final class Await {
  /** How long a wait sleeps between two looks. */
  public static final long POLL_MILLIS = 5;

  private Await() {}

  /** Waits until {@code condition} holds. */
  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    poll(
        timeout,
        condition::getAsBoolean,
        done -> done,
        last -> new AssertionError(notWithin(timeout, what)));
  }

  /**
   * Waits until {@code probe} gives a value that {@code done} accepts, and returns that value; the
   * failure shows the last value seen.
   */
  public static <T> T until(
      String what, Duration timeout, Callable<T> probe, Predicate<? super T> done) {
    return poll(
        timeout,
        probe,
        done,
        last -> new AssertionError(notWithin(timeout, what) + "; last seen: " + last));
  }

  /** Waits until {@code probe} finds a value, and returns it. */
  public static <T> T present(String what, Duration timeout, Supplier<Optional<T>> probe) {
    return poll(
            timeout,
            probe::get,
            Optional::isPresent,
            last -> new AssertionError(notWithin(timeout, what)))
        .get();
  }

  /**
   * Waits until {@code probe} finds a value, and returns it; on timeout fails with the message
   * {@code failure} builds then (e.g. a fake's listing of what it recorded instead).
   */
  public static <T> T present(
      Duration timeout, Supplier<Optional<T>> probe, Supplier<String> failure) {
    return poll(timeout, probe::get, Optional::isPresent, last -> new AssertionError(failure.get()))
        .get();
  }

  /**
   * Checks, for all of {@code period}, that {@code probe} keeps giving values {@code ok} accepts;
   * fails at the first one it does not, showing it.
   */
  public static <T> void during(
      String what, Duration period, Callable<T> probe, Predicate<? super T> ok) {
    long end = System.nanoTime() + period.toNanos();
    do {
      T value = call(probe);
      if (!ok.test(value)) {
        throw new AssertionError(
            "Not for " + period.toMillis() + " ms: " + what + "; saw: " + value);
      }
      pause();
    } while (System.nanoTime() - end < 0);
  }

  /**
   * Looks until {@code probe} gives a value {@code done} accepts; past {@code timeout}, throws what
   * {@code failure} makes of the last value.
   */
  private static <T> T poll(
      Duration timeout,
      Callable<T> probe,
      Predicate<? super T> done,
      Function<T, AssertionError> failure) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      boolean last = System.nanoTime() - deadline >= 0;
      T value = call(probe);
      if (done.test(value)) {
        return value;
      }
      if (last) {
        throw failure.apply(value);
      }
      pause();
    }
  }

  private static String notWithin(Duration timeout, String what) {
    return "Not within " + timeout.toMillis() + " ms: " + what;
  }

  private static void pause() {
    try {
      Thread.sleep(POLL_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("Interrupted while waiting", e);
    }
  }

  private static <T> T call(Callable<T> probe) {
    try {
      return probe.call();
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("Interrupted while waiting", e);
    } catch (Exception e) {
      throw new AssertionError("The probe failed: " + e, e);
    }
  }
}
