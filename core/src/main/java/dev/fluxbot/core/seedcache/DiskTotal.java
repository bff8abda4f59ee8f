package dev.fluxbot.core.seedcache;

import java.time.InstantSource;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The seed cache's running total of its index's {@code size_bytes}, so that a put need not sum the
 * whole index to know whether it is over budget.
 *
 * <p>Exact within one instance. A change to the index (a put, a dropped row) runs under the read
 * side of {@code lock} and adds the bytes it reports after its transaction committed. The evictor
 * runs its transaction and sets the new total under the write side, so no change is in flight
 * between its reading the total and its setting it: each change is counted once, before or after. A
 * failed evictor leaves the total unknown, and the next put sums again.
 *
 * <p>Other instances sharing the database change the index unseen, so the evictor sums the index
 * again once the total is older than {@code recountMillis}; their puts are counted within that.
 */
final class DiskTotal {
  private static final long UNKNOWN = Long.MIN_VALUE;

  /**
   * What an evictor leaves: the index's total after it, and whether it summed the index to know it.
   */
  public interface Counted {
    long bytesAfter();

    boolean summed();
  }

  private final InstantSource clock;
  private final long recountMillis;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final AtomicLong total = new AtomicLong(UNKNOWN);
  private volatile long countedAt;

  public DiskTotal(InstantSource clock, long recountMillis) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.recountMillis = recountMillis;
  }

  /**
   * Runs a change of the index; {@code change} returns how many bytes it added (negative: freed).
   */
  public void change(LongSupplier change) {
    lock.readLock().lock();
    try {
      long delta = change.getAsLong();
      total.accumulateAndGet(delta, (t, d) -> t == UNKNOWN ? UNKNOWN : t + d);
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Whether the evictor must run: the total is unknown, over {@code budget}, or due for a recount.
   */
  public boolean mayExceed(long budget) {
    long t = total.get();
    return t == UNKNOWN || t > budget || clock.millis() - countedAt >= recountMillis;
  }

  /**
   * Runs the evictor alone: it gets the total where that is known and recent, or empty where it
   * must sum the index, and returns what it left.
   */
  public <T extends Counted> T recount(Function<OptionalLong, T> evictor) {
    lock.writeLock().lock();
    try {
      long t = total.get();
      boolean fresh = t != UNKNOWN && clock.millis() - countedAt < recountMillis;
      T after = evictor.apply(fresh ? OptionalLong.of(t) : OptionalLong.empty());
      total.set(after.bytesAfter());
      if (after.summed()) {
        countedAt = clock.millis();
      }
      return after;
    } catch (RuntimeException e) {
      total.set(UNKNOWN);
      throw e;
    } finally {
      lock.writeLock().unlock();
    }
  }
}
