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
}
