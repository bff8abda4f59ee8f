package dev.fluxbot.bench;

import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.PostgresServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Databases, folders and ids for the benchmarks; what every test fixture would do, minus the
 * asserts.
 */
public final class Fixtures {
  /** The size of the benchmarks' stand-in image: 16 KiB. */
  public static final int IMAGE_BYTES = 16 * 1024;

  private static final AtomicLong IDS = new AtomicLong();

  private Fixtures() {}

  /**
   * {@code sqlite}: a new file in {@code dir}; {@code postgresql}: a new database on the testkit's
   * server.
   */
  public static Database open(String kind, Path dir) {
    return switch (kind) {
      case "sqlite" -> Database.sqlite(dir.resolve("fluxbot.db"));
      case "postgresql" -> Database.open(PostgresServer.newDatabaseUrl(), null, null);
      default ->
          throw new IllegalArgumentException(
              "db must be sqlite or postgresql; got \"" + kind + "\"");
    };
  }

  public static Path tempDir(String name) {
    try {
      return Files.createTempDirectory("fluxbot-bench-" + name + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort in a temp folder
    }
  }

  /** A fresh 26-character job id (the column's width), unique in this JVM. */
  public static String jobId() {
    return "BENCH" + String.format("%021d", IDS.incrementAndGet());
  }

  /** The floor every store operation stands on: a table for {@link #insertOneRow}. */
  public static void createFloorTable(Database db) {
    db.transaction(
        c -> {
          try (Statement st = c.createStatement()) {
            st.execute(
                "CREATE TABLE IF NOT EXISTS bench_floor (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)");
          }
          return null;
        });
  }

  /**
   * One write transaction with one single-row INSERT, through the same pool and settings as the
   * app.
   */
  public static void insertOneRow(Database db) {
    long id = IDS.incrementAndGet();
    db.transaction(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement("INSERT INTO bench_floor (id, v) VALUES (?, ?)")) {
            st.setLong(1, id);
            st.setLong(2, id);
            return st.executeUpdate();
          }
        });
  }
}
