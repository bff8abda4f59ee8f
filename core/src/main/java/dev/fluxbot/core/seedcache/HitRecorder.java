package dev.fluxbot.core.seedcache;

import dev.fluxbot.core.store.Database;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The seed cache's hits on their way to the index.
 *
 * <p>A hit costs its caller one map update: hits wait in {@code pending}, one per fingerprint
 * (counts added, the latest time kept), and a flush on the injected executor writes all that wait
 * in one transaction. So a hit never waits for the database's write lock, and a burst of hits is
 * one write. At most one flush is queued at a time ({@code scheduled}); a flush clears the flag
 * before it takes the hits, so a hit that arrives during a flush queues the next one.
 *
 * <p>A write that finds the row gone or holding another image (another instance evicted or replaced
 * it) reports it to {@code onGone}, which drops the entry from memory. The evictor takes the
 * waiting hits into its own transaction ({@link #drain}, {@link #write}) before it orders rows by
 * their last hit, so the order it evicts in counts every hit. A hit whose write fails is lost,
 * which only makes its entry look older. With {@code Runnable::run} as the executor every hit is
 * written before {@link #record} returns.
 */
final class HitRecorder {
  private static final Logger log = LoggerFactory.getLogger(HitRecorder.class);

  /** Hits on one entry: {@code count} of them, the last at {@code at} (epoch millis). */
  public record Hit(String fingerprint, String imageHash, long at, long count) {
    Hit plus(Hit later) {
      if (!later.imageHash.equals(imageHash)) {
        return later; // the entry was replaced between the two hits: only the newer image's count
      }
      return new Hit(fingerprint, imageHash, Math.max(at, later.at), count + later.count);
    }
  }

  private final Database db;
  private final SeedIndex index;
  private final Executor executor;
  private final BiConsumer<String, String> onGone;
  private final ConcurrentMap<String, Hit> pending = new ConcurrentHashMap<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  /**
   * @param onGone told (fingerprint, image hash) of each hit whose row is gone or replaced
   */
  public HitRecorder(
      Database db, SeedIndex index, Executor executor, BiConsumer<String, String> onGone) {
    this.db = Objects.requireNonNull(db, "db");
    this.index = Objects.requireNonNull(index, "index");
    this.executor = Objects.requireNonNull(executor, "executor");
    this.onGone = Objects.requireNonNull(onGone, "onGone");
  }

  public void record(String fingerprint, String imageHash, long at) {
    pending.merge(fingerprint, new Hit(fingerprint, imageHash, at, 1), Hit::plus);
    if (scheduled.compareAndSet(false, true)) {
      try {
        executor.execute(this::flush);
      } catch (RejectedExecutionException e) {
        flush(); // the executor is shut down: write on the caller's thread rather than lose the hit
      }
    }
  }

  /** Writes every waiting hit now, in one transaction. */
  public void flush() {
    scheduled.set(false);
    List<Hit> batch = drain();
    if (batch.isEmpty()) {
      return;
    }
    try {
      db.transaction(c -> write(c, batch))
          .forEach(h -> onGone.accept(h.fingerprint(), h.imageHash()));
    } catch (RuntimeException e) {
      log.warn(
          "seed cache: cannot record {} hits; their entries will look older: {}",
          batch.size(),
          e.getMessage());
    }
  }

  /** Takes every waiting hit, in fingerprint order (so two writers lock rows in the same order). */
  public List<Hit> drain() {
    List<Hit> batch = new ArrayList<>(pending.size());
    for (String fingerprint : pending.keySet()) {
      Hit hit = pending.remove(fingerprint);
      if (hit != null) {
        batch.add(hit);
      }
    }
    batch.sort(Comparator.comparing(Hit::fingerprint));
    return batch;
  }

  /**
   * Writes {@code batch} in the caller's transaction; returns the hits whose row is gone or
   * replaced.
   */
  public List<Hit> write(Connection c, List<Hit> batch) throws SQLException {
    if (batch.isEmpty()) {
      return List.of();
    }
    index.lockForWrite(c);
    return index.recordHits(c, batch);
  }
}
