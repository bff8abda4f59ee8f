package dev.fluxbot.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
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
 * Where a SQLite write transaction's tail comes from. The floor insert on one raw connection with
 * the app's settings (WAL, synchronous NORMAL, BEGIN IMMEDIATE), with SQLite's automatic WAL
 * checkpoint after every 1,000 pages (the default, which Database keeps) and with it off ({@code
 * 0}). In WAL with synchronous NORMAL a commit does not fsync; a checkpoint does, on the thread
 * whose commit crossed the threshold.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
public class SqliteCheckpointBench {
  @Param({"1000", "0"})
  public int walAutocheckpoint;

  private Path dir;
  private Connection connection;
  private PreparedStatement insert;
  private Statement control;
  private long id;

  @Setup(Level.Trial)
  public void open() throws SQLException {
    dir = Fixtures.tempDir("checkpoint");
    Properties p = new Properties();
    p.setProperty("journal_mode", "WAL");
    p.setProperty("synchronous", "NORMAL");
    p.setProperty("busy_timeout", "30000");
    connection = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("floor.db"), p);
    control = connection.createStatement();
    control.execute("PRAGMA wal_autocheckpoint = " + walAutocheckpoint);
    control.execute("CREATE TABLE bench_floor (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)");
    insert = connection.prepareStatement("INSERT INTO bench_floor (id, v) VALUES (?, ?)");
  }

  @TearDown(Level.Trial)
  public void close() throws SQLException {
    connection.close();
    Fixtures.deleteTree(dir);
  }

  @Benchmark
  public int insertOneRow() throws SQLException {
    control.execute("BEGIN IMMEDIATE");
    insert.setLong(1, ++id);
    insert.setLong(2, id);
    int rows = insert.executeUpdate();
    control.execute("COMMIT");
    return rows;
  }
}
