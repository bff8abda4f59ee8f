package dev.fluxbot.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fluxbot.testkit.PostgresServer;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseTest {
  @TempDir
  Path dir;

  static Database postgres() {
    if (!PostgresServer.isRequired()) {
      Assumptions.assumeTrue(PostgresServer.isAvailable(), "PostgreSQL binaries not installed");
    }
    return Database.open(PostgresServer.newDatabaseUrl(), null, null);
  }

  private static List<String> tables(Database db) {
    return db.read(c -> {
      List<String> names = new ArrayList<>();
      try (ResultSet rs = c.getMetaData().getTables(null, null, "%", new String[] {"TABLE"})) {
        while (rs.next()) {
          names.add(rs.getString("TABLE_NAME").toLowerCase(java.util.Locale.ROOT));
        }
      }
      return names;
    });
  }

  @Test
  void sqliteIsCreatedOnFirstUseWithTheSchema() {
    Path file = dir.resolve("data/fluxbot.db");
    try (Database db = Database.sqlite(file)) {
      assertThat(db.dialect()).isEqualTo(Database.Dialect.SQLITE);
      assertThat(tables(db)).contains("jobs", "quota_rules", "quota_usage", "quota_reservations", "bans",
          "seed_cache", "user_state");
      String mode = db.read(c -> {
        try (var st = c.createStatement(); var rs = st.executeQuery("PRAGMA journal_mode")) {
          rs.next();
          return rs.getString(1);
        }
      });
      assertThat(mode).isEqualToIgnoringCase("wal");
    }
    assertThat(file).exists();
    try (Database again = Database.sqlite(file)) {
      assertThat(tables(again)).contains("jobs");
    }
  }

  @Test
  void postgresGetsTheSameSchema() {
    try (Database db = postgres()) {
      assertThat(db.dialect()).isEqualTo(Database.Dialect.POSTGRESQL);
      assertThat(tables(db)).contains("jobs", "quota_rules", "quota_usage", "quota_reservations", "bans",
          "seed_cache", "user_state");
    }
  }

  @Test
  void aFailedTransactionLeavesNothingBehind() {
    try (Database db = Database.sqlite(dir.resolve("t.db"))) {
      catchThrowableOfType(IllegalStateException.class, () -> db.transaction(c -> {
        try (var st = c.createStatement()) {
          st.executeUpdate("INSERT INTO bans (platform, scope_id, user_id, created_at) VALUES ('cli', '*', 'u', 1)");
        }
        throw new IllegalStateException("changed my mind");
      }));
      int rows = db.read(c -> {
        try (var st = c.createStatement(); var rs = st.executeQuery("SELECT COUNT(*) FROM bans")) {
          rs.next();
          return rs.getInt(1);
        }
      });
      assertThat(rows).isZero();
    }
  }

  @Test
  void anUnknownUrlIsRefusedNamingTheRule() {
    IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class,
        () -> Database.open("jdbc:mysql://db/x?password=hunter2", null, null));
    assertThat(e.getMessage()).isEqualTo(
        "database URL: must start with jdbc:sqlite: or jdbc:postgresql:; got \"jdbc:mysql://db/x?password=***\"");
  }

  private static int count(Database db, String table) {
    return db.read(c -> {
      try (var st = c.prepareStatement("SELECT COUNT(*) FROM " + table); var rs = st.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    });
  }

  private static void ban(Database db, String user) {
    db.transaction(c -> {
      try (var st = c.prepareStatement(
          "INSERT INTO bans (platform, scope_id, user_id, created_at) VALUES ('cli', '*', ?, 1)")) {
        st.setString(1, user);
        return st.executeUpdate();
      }
    });
  }

  private static java.util.stream.Stream<Database> bothDatabases(Path dir) {
    List<Database> dbs = new ArrayList<>(List.of(Database.sqlite(dir.resolve("nest.db"))));
    if (PostgresServer.isRequired() || PostgresServer.isAvailable()) {
      dbs.add(postgres());
    }
    return dbs.stream();
  }

  @Test
  void aTransactionInsideAnotherJoinsItAndCommitsWithIt() {
    bothDatabases(dir).forEach(db -> {
      try (db) {
        List<String> seen = new ArrayList<>();
        db.transaction(outer -> {
          ban(db, "a");
          db.afterCommit(() -> seen.add("committed with " + count(db, "bans") + " bans"));
          assertThat(db.inTransaction()).isTrue();
          assertThat(count(db, "bans")).as("a read inside sees the transaction's own writes").isEqualTo(1);
          ban(db, "b");
          assertThat(seen).as("not before the commit").isEmpty();
          return null;
        });
        assertThat(db.inTransaction()).isFalse();
        assertThat(seen).containsExactly("committed with 2 bans");
        assertThat(count(db, "bans")).isEqualTo(2);
      }
    });
  }

  @Test
  void aFailureInsideAJoinedTransactionRollsBackAllOfItAndSkipsItsAfterCommitWork() {
    bothDatabases(dir).forEach(db -> {
      try (db) {
        List<String> seen = new ArrayList<>();
        IllegalStateException e = catchThrowableOfType(IllegalStateException.class, () -> db.transaction(outer -> {
          ban(db, "a");
          db.afterCommit(() -> seen.add("ran"));
          return db.transaction(inner -> {
            ban(db, "b");
            throw new IllegalStateException("over quota");
          });
        }));
        assertThat(e).hasMessage("over quota");
        assertThat(count(db, "bans")).isZero();
        assertThat(seen).isEmpty();
        db.afterCommit(() -> seen.add("outside any transaction: at once"));
        assertThat(seen).containsExactly("outside any transaction: at once");
      }
    });
  }

  @Test
  void anSqlErrorInsideAJoinedTransactionIsReportedByTheOutermostOneNamingTheDatabase() {
    try (Database db = Database.sqlite(dir.resolve("e.db"))) {
      Database.StoreException e = catchThrowableOfType(Database.StoreException.class, () -> db.transaction(outer -> {
        ban(db, "a");
        return db.read(inner -> {
          try (var st = inner.prepareStatement("SELECT user_id FROM nowhere")) {
            return st.executeQuery();
          }
        });
      }));
      assertThat(e.getMessage()).startsWith("database jdbc:sqlite:").contains("no such table: nowhere");
      assertThat(count(db, "bans")).isZero();
    }
  }

  @Test
  void sqliteKeepsPreparedStatementsPerConnectionAndLeavesNoReadOpenBehind() {
    try (Database db = Database.sqlite(dir.resolve("s.db"))) {
      for (int i = 0; i < 50; i++) {
        ban(db, "user" + i);
        assertThat(count(db, "bans")).isEqualTo(i + 1);
      }
      // a statement closed by its caller stays compiled, but it holds no read snapshot: a full
      // checkpoint that must wait for every reader finishes at once
      int busy = db.read(c -> {
        try (var st = c.createStatement(); var rs = st.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
          rs.next();
          return rs.getInt(1);
        }
      });
      assertThat(busy).as("checkpoint blocked by a reader").isZero();
    }
  }

  @Test
  void closeWaitsForAWriteInProgressAndRefusesLaterOnes() throws Exception {
    Path file = dir.resolve("closing.db");
    Database db = Database.sqlite(file);
    java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch finish = new java.util.concurrent.CountDownLatch(1);
    Thread writer = Thread.ofVirtual().start(() -> db.transaction(c -> {
      try (var st = c.createStatement()) {
        st.executeUpdate("CREATE TABLE t (x INTEGER)");
      }
      inside.countDown();
      try {
        finish.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return null;
    }));
    inside.await();
    Thread closer = Thread.ofVirtual().start(db::close);
    closer.join(300);
    assertThat(closer.isAlive()).as("close waits for the write in progress").isTrue();
    finish.countDown();
    writer.join();
    closer.join();

    Database.StoreException refused = catchThrowableOfType(Database.StoreException.class, () -> db.transaction(c -> 1));
    assertThat(refused).hasMessageContaining("is closed");
    try (Database again = Database.sqlite(file)) {
      assertThat(tables(again)).as("the write committed and nothing holds the file's lock").contains("t");
    }
  }
}
