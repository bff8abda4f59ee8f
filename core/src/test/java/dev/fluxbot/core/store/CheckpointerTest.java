package dev.fluxbot.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

class CheckpointerTest {
  @TempDir Path dir;

  private SQLiteDataSource source;

  @BeforeEach
  void open() throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
    config.setPragma(SQLiteConfig.Pragma.WAL_AUTOCHECKPOINT, "0");
    source = new SQLiteDataSource(config);
    source.setUrl("jdbc:sqlite:" + dir.resolve("c.db"));
    try (Connection c = source.getConnection();
        Statement st = c.createStatement()) {
      st.executeUpdate("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
    }
  }

  private void write(Connection c, int transactions) throws SQLException {
    try (var ps = c.prepareStatement("INSERT INTO t (v) VALUES (randomblob(3000))")) {
      for (int i = 0; i < transactions; i++) {
        ps.executeUpdate();
      }
    }
  }

  /** The WAL's length in pages, as a no-op checkpoint reports it. */
  private int walPages(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
      rs.next();
      return rs.getInt(2);
    }
  }

  @Test
  void withoutCheckpointsTheWalOnlyGrowsAndARoundLetsTheNextWriterStartItOver() throws Exception {
    Checkpointer checkpointer = new Checkpointer(source, new ReentrantLock(), "test", 100);
    try (Connection c = source.getConnection()) {
      write(c, 300);
      long walBytes = Files.size(dir.resolve("c.db-wal"));
      assertThat(walBytes).as("no automatic checkpoint").isGreaterThan(300L * 3000);
      checkpointer.checkpointOnce();
      assertThat(checkpointer.rounds()).isOne();
      write(c, 5); // this writer finds the WAL fully copied and starts it over
      assertThat(walPages(c)).isLessThan(20);
      assertThat(Files.size(dir.resolve("c.db-wal")))
          .as("the file is reused, not grown")
          .isEqualTo(walBytes);
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM t")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(305);
      }
    }
  }

  @Test
  void aLongWalIsCaughtUpUnderTheWriterLockWhichWritersOfThisProcessWaitFor() throws Exception {
    ReentrantLock writer = new ReentrantLock();
    Checkpointer checkpointer = new Checkpointer(source, writer, "test", 100);
    try (Connection c = source.getConnection()) {
      write(c, 300);
      checkpointer.checkpointOnce();
      assertThat(checkpointer.catchUps()).as("over 100 pages: the locked second pass ran").isOne();
      Checkpointer lenient = new Checkpointer(source, writer, "test", 1_000_000);
      write(c, 300);
      lenient.checkpointOnce();
      assertThat(lenient.catchUps()).isZero();
    }
  }

  @Test
  void theBackgroundThreadRunsARoundAfterEnoughCommitsAndLeavesAShortWalWhenClosed()
      throws Exception {
    Checkpointer checkpointer = new Checkpointer(source, new ReentrantLock(), "test");
    checkpointer.start();
    try (Connection c = source.getConnection()) {
      for (int i = 0; i < Checkpointer.EVERY_COMMITS; i++) {
        write(c, 1);
        checkpointer.committed();
      }
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (checkpointer.rounds() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(checkpointer.rounds()).isPositive();
    } finally {
      checkpointer.close();
    }
    Path wal = dir.resolve("c.db-wal");
    assertThat(!Files.exists(wal) || Files.size(wal) == 0)
        .as("a short WAL: truncated, or removed with the last connection")
        .isTrue();
  }
}
