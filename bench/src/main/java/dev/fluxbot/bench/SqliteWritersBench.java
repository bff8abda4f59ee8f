package dev.fluxbot.bench;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.Database;
import java.nio.file.Path;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Four threads writing to one SQLite database as four concurrent jobs do: a quota reserve (one
 * write transaction), 200 µs away from the database (a job's fsync, its backend call), the commit
 * (another), 200 µs away again; each thread is its own user. {@code busy}: as Database does it
 * today, each transaction takes SQLite's write lock itself, and one that finds it held sleeps in
 * SQLite's busy handler (1, 2, 5, 10 … ms) before it tries again, while the lock may sit free.
 * {@code queued}: the same calls, but writers first queue on one lock in the JVM, so the next
 * starts as soon as the last one commits.
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
public class SqliteWritersBench {
  @Param({"busy", "queued"})
  public String writers;

  private final ReentrantLock writeLock = new ReentrantLock();
  private Path dir;
  private Database database;
  private QuotaService quota;

  @Setup(Level.Trial)
  public void open() {
    dir = Fixtures.tempDir("writers");
    database = Fixtures.open("sqlite", dir);
    quota =
        new QuotaService(
            database,
            new QuotaService.Settings(
                ZoneOffset.UTC, QuotaService.Period.DAY, Long.MAX_VALUE / 4, 2, null),
            InstantSource.system());
  }

  @TearDown(Level.Trial)
  public void close() {
    database.close();
    Fixtures.deleteTree(dir);
  }

  /** A thread's own user, so the per-user cap never bites. */
  @State(Scope.Thread)
  public static class User {
    private static final AtomicInteger USERS = new AtomicInteger();
    Requester who;

    @Setup(Level.Trial)
    public void create() {
      String id = "writer" + USERS.incrementAndGet();
      who = new Requester("discord", id, id, "guild1", Set.of(), false);
    }
  }

  private <T> T write(Supplier<T> transaction) {
    if (!writers.equals("queued")) {
      return transaction.get();
    }
    writeLock.lock();
    try {
      return transaction.get();
    } finally {
      writeLock.unlock();
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @Threads(4)
  public void reserveWorkCommit(User user) {
    String job = Fixtures.jobId();
    write(() -> quota.reserve(user.who, job, "klein-4b", 1_000, false));
    LockSupport.parkNanos(200_000);
    write(
        () -> {
          quota.commit(job, 1_000);
          return null;
        });
    LockSupport.parkNanos(200_000);
  }
}
