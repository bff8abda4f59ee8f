package dev.fluxbot.core.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SQLite's WAL checkpoints, moved off the writers' path. With SQLite's own automatic checkpoint,
 * the commit that crosses 1,000 WAL pages copies them into the database and forces both files to
 * disk before it returns; in the pipeline that was the slowest 1–3% of jobs (docs/benchmarks.md).
 * Here connections run with {@code wal_autocheckpoint=0} and this thread checkpoints instead:
 *
 * <ol>
 *   <li>a {@code PASSIVE} checkpoint, which copies what it can while writers go on (the slow part,
 *       with the forced writes), whenever {@link #EVERY_COMMITS} commits have happened or {@link
 *       #PERIOD_MILLIS} has passed with at least one;
 *   <li>when the WAL is longer than {@link #CATCH_UP_PAGES} (writers never paused long enough for
 *       the checkpoint to reach the WAL's end, so SQLite could not start it over), a second {@code
 *       PASSIVE} checkpoint holding the process's writer lock. It has little left to copy, since
 *       the first one just ran, and no writer of this process adds to the WAL meanwhile, so it
 *       reaches the end and the next writer starts the WAL from its beginning: the WAL stays
 *       bounded under any load. ({@code RESTART} would do the same but waits for readers through
 *       SQLite's busy handler, which sleeps for milliseconds at a time, all of it under the lock.)
 * </ol>
 *
 * A failed checkpoint is logged and tried again next round; the data is safe in the WAL meanwhile.
 */
final class Checkpointer {
  private static final Logger log = LoggerFactory.getLogger(Checkpointer.class);
  static final int EVERY_COMMITS = 200;
  static final long PERIOD_MILLIS = 500;
  static final int CATCH_UP_PAGES = 16_000;

  private final DataSource dataSource;
  private final int catchUpPages;
  private final ReentrantLock writer;
  private final String description;
  private final Thread thread;
  private final AtomicLong commits = new AtomicLong();
  private final ReentrantLock wake = new ReentrantLock();
  private final Condition due = wake.newCondition();
  private final AtomicLong catchUps = new AtomicLong();
  private final AtomicLong rounds = new AtomicLong();
  private volatile boolean closed;

  Checkpointer(DataSource dataSource, ReentrantLock writer, String description) {
    this(dataSource, writer, description, CATCH_UP_PAGES);
  }

  Checkpointer(DataSource dataSource, ReentrantLock writer, String description, int catchUpPages) {
    this.catchUpPages = catchUpPages;
    this.dataSource = dataSource;
    this.writer = writer;
    this.description = description;
    this.thread = Thread.ofPlatform().daemon().name("fluxbot-db-checkpoint").unstarted(this::loop);
  }

  void start() {
    thread.start();
  }

  /** Called after each commit of this process. */
  void committed() {
    if (commits.incrementAndGet() % EVERY_COMMITS == 0) {
      wake.lock();
      try {
        due.signal();
      } finally {
        wake.unlock();
      }
    }
  }

  /** Rounds run and locked catch-ups needed so far (for tests and the benchmark's notes). */
  long rounds() {
    return rounds.get();
  }

  long catchUps() {
    return catchUps.get();
  }

  private void loop() {
    long seen = 0;
    while (!closed) {
      wake.lock();
      try {
        if (commits.get() - seen < EVERY_COMMITS) {
          due.await(PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        }
      } catch (InterruptedException e) {
        return;
      } finally {
        wake.unlock();
      }
      long now = commits.get();
      if (now == seen || closed) {
        continue;
      }
      seen = now;
      try {
        checkpointOnce();
      } catch (SQLException | RuntimeException e) {
        if (!closed) {
          log.warn(
              "database {}: WAL checkpoint failed ({}); trying again shortly",
              description,
              e.toString());
        }
      }
    }
  }

  /** One round: PASSIVE, then RESTART if the WAL is still long. Returns the WAL pages left. */
  int checkpointOnce() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement()) {
      int pages = checkpoint(st, "PASSIVE");
      rounds.incrementAndGet();
      if (pages > catchUpPages) {
        writer.lock();
        try {
          pages = checkpoint(st, "PASSIVE");
          catchUps.incrementAndGet();
        } finally {
          writer.unlock();
        }
      }
      return pages;
    }
  }

  /** Runs one checkpoint; returns the WAL's length in pages as SQLite reports it. */
  private static int checkpoint(Statement st, String mode) throws SQLException {
    try (ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(" + mode + ")")) {
      return rs.next() ? rs.getInt(2) : 0;
    }
  }

  void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement()) {
      checkpoint(st, "TRUNCATE"); // leave a short WAL behind
    } catch (SQLException | RuntimeException e) {
      log.debug("database {}: final checkpoint skipped: {}", description, e.toString());
    }
  }
}
