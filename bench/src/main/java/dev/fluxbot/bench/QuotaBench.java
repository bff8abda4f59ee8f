package dev.fluxbot.bench;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.Database;
import java.nio.file.Path;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.Set;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One job's credits: {@link QuotaService#reserve} then {@link QuotaService#commit} for a fresh job
 * id, against {@code insertOneRow}, the floor: one single-row write transaction on the same pool.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
public class QuotaBench {
  private static final long CREDIT = 1_000;

  @Param({"sqlite", "postgresql"})
  public String db;

  private final Requester alice =
      new Requester("discord", "alice", "Alice", "guild1", Set.of(), false);
  private Path dir;
  private Database database;
  private QuotaService quota;

  @Setup(Level.Trial)
  public void open() {
    dir = Fixtures.tempDir("quota");
    database = Fixtures.open(db, dir);
    Fixtures.createFloorTable(database);
    // Enough credits that no run ever meets the limit; one job at a time, so the cap never bites.
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

  @Benchmark
  public void reserveCommit() {
    String job = Fixtures.jobId();
    quota.reserve(alice, job, "klein-4b", CREDIT, false);
    quota.commit(job, CREDIT);
  }

  @Benchmark
  public void insertOneRow() {
    Fixtures.insertOneRow(database);
  }
}
