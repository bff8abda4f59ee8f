package dev.fluxbot.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.testkit.PostgresServer;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class DatabaseTest {
  @TempDir Path dir;

  public static Database postgres() {
    if (!PostgresServer.isRequired()) {
      Assumptions.assumeTrue(PostgresServer.isAvailable(), "PostgreSQL binaries not installed");
    }
    return Database.open(PostgresServer.newDatabaseUrl(), null, null);
  }

  private static List<String> tables(Database db) {
    return db.read(
        c -> {
          List<String> names = new ArrayList<>();
          try (ResultSet rs = c.getMetaData().getTables(null, null, "%", new String[] {"TABLE"})) {
            while (rs.next()) {
              names.add(rs.getString("TABLE_NAME").toLowerCase(java.util.Locale.ROOT));
            }
          }
          return names;
        });
  }

  /**
   * A role on a new database of the shared server that may hold at most {@code limit} connections:
   * its URL.
   */
  private static String limitedRole(String role, int limit) {
    String url;
    try (Database admin = postgres()) {
      url = PostgresServer.newDatabaseUrl();
      admin.transaction(
          c -> {
            try (var st = c.createStatement()) {
              st.execute(
                  "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '"
                      + role
                      + "') THEN CREATE ROLE "
                      + role
                      + " LOGIN CONNECTION LIMIT "
                      + limit
                      + "; END IF; END $$");
              String name = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
              st.execute(
                  "ALTER DATABASE "
                      + name
                      + " OWNER TO "
                      + role); // its public schema is the owner's to use
            }
            return null;
          });
    }
    return url.replace("?user=fluxbot", "?user=" + role);
  }

  private static int connectionsOf(Database db, String role) {
    return db.read(
        c -> {
          try (var st =
              c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE usename = ?")) {
            st.setString(1, role);
            try (ResultSet rs = st.executeQuery()) {
              rs.next();
              return rs.getInt(1);
            }
          }
        });
  }

  @Test
  void aPostgresPoolHoldsNoMoreConnectionsThanAskedAndOpensThemAsNeeded() throws Exception {
    String url = limitedRole("pool_two", 2);
    try (Database db = Database.open(url, null, null, 2);
        Database watcher = postgres()) {
      var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
      List<java.util.concurrent.Future<Integer>> reads = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        reads.add(
            pool.submit(
                () ->
                    db.read(
                        c -> {
                          try (var st = c.createStatement();
                              ResultSet rs = st.executeQuery("SELECT 1, pg_sleep(0.01)")) {
                            rs.next();
                            return rs.getInt(1);
                          }
                        })));
      }
      for (var r : reads) {
        assertThat(r.get()).isEqualTo(1);
      }
      pool.shutdown();
      assertThat(connectionsOf(watcher, "pool_two")).isBetween(1, 2);
    }
  }

  @Test
  void aPoolOfOneIsRefusedBecauseMigrationsHoldTwo() {
    IllegalArgumentException e =
        catchThrowableOfType(
            IllegalArgumentException.class,
            () -> Database.open("jdbc:sqlite:" + dir.resolve("one.db"), null, null, 1));
    assertThat(e).hasMessageContaining("at least 2");
  }

  @Test
  void aServerThatRefusesForTooManyClientsIsReportedAsUnavailableNotAsASettingsMistake()
      throws Exception {
    String url = limitedRole("pool_full", 2);
    try (var one = java.sql.DriverManager.getConnection(url);
        var two = java.sql.DriverManager.getConnection(url)) {
      Database.UnavailableException e =
          catchThrowableOfType(
              Database.UnavailableException.class, () -> Database.open(url, null, null, 2).close());
      assertThat(e).isNotNull();
      assertThat(e.getMessage())
          .contains("refused the connection because it has too many clients")
          .contains("lower storage.database_pool_size");
    }
  }

  @Test
  void aServerThatDoesNotAnswerIsUnavailableAndNoPasswordIsShown() throws Exception {
    int port;
    try (var socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort(); // closed again: nothing listens there
    }
    String url = "jdbc:postgresql://127.0.0.1:" + port + "/x?user=bob&password=hunter2";
    Database.UnavailableException e =
        catchThrowableOfType(
            Database.UnavailableException.class, () -> Database.open(url, null, null, 2).close());
    assertThat(e.getMessage())
        .contains("did not accept a connection")
        .contains("password=***")
        .doesNotContain("hunter2");
  }

  @Test
  void redactMasksPasswordsInParametersAndInUserInfo() {
    assertThat(Database.redact("jdbc:postgresql://bob:hunter2@db.example/fluxbot?ssl=true"))
        .isEqualTo("jdbc:postgresql://bob:***@db.example/fluxbot?ssl=true");
    assertThat(
            Database.redact(
                "jdbc:postgresql://db.example:5432/fluxbot?user=bob&password=hunter2&ssl=true"))
        .isEqualTo("jdbc:postgresql://db.example:5432/fluxbot?user=bob&password=***&ssl=true");
    assertThat(Database.redact("jdbc:postgresql://db.example:5432/fluxbot"))
        .isEqualTo("jdbc:postgresql://db.example:5432/fluxbot");
  }

  @Test
  void sqliteIsCreatedOnFirstUseWithTheSchema() {
    Path file = dir.resolve("data/fluxbot.db");
    try (Database db = Database.sqlite(file)) {
      assertThat(db.dialect()).isEqualTo(Database.Dialect.SQLITE);
      assertThat(tables(db))
          .contains(
              "jobs",
              "quota_rules",
              "quota_usage",
              "quota_reservations",
              "bans",
              "seed_cache",
              "user_state");
      String mode =
          db.read(
              c -> {
                try (var st = c.createStatement();
                    var rs = st.executeQuery("PRAGMA journal_mode")) {
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

  private static String pragma(Database db, String name) {
    return db.read(
        c -> {
          try (var st = c.createStatement();
              var rs = st.executeQuery("PRAGMA " + name)) {
            rs.next();
            return rs.getString(1);
          }
        });
  }

  @Test
  void aNewSqliteFileGetsSmallPagesAndAnExistingOneKeepsItsOwn() throws Exception {
    Path fresh = dir.resolve("fresh.db");
    try (Database db = Database.sqlite(fresh)) {
      assertThat(pragma(db, "page_size"))
          .isEqualTo(String.valueOf(Database.SQLITE_PAGE_BYTES))
          .isEqualTo("2048");
      assertThat(pragma(db, "journal_mode")).isEqualToIgnoringCase("wal");
    }
    Path byUrl = dir.resolve("by-url.db");
    try (Database db = Database.open("jdbc:sqlite:" + byUrl, null, null)) {
      assertThat(pragma(db, "page_size")).isEqualTo("2048");
    }
    // a file made by an earlier fluxbot: SQLite's default 4 KiB pages, the schema up to V4, a job
    // in it
    Path old = dir.resolve("old.db");
    try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + old);
        var st = c.createStatement()) {
      st.execute("PRAGMA page_size = 4096");
      st.execute("PRAGMA journal_mode = WAL");
    }
    org.flywaydb.core.Flyway.configure(getClass().getClassLoader())
        .dataSource("jdbc:sqlite:" + old, null, null)
        .locations("classpath:db/migration")
        .target("4")
        .load()
        .migrate();
    try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + old);
        var st = c.createStatement()) {
      st.execute(
          """
          INSERT INTO jobs (id, platform, user_id, scope_id, requester, command_text, request, reference_hashes, state,
            model, seed, estimate_milli, image_hash, created_at)
          VALUES ('01OLDJOB000000000000000001', 'discord', 'u1', 'g1', '{}', 'a fox', '{}', '[]', 'SUCCEEDED',
            'klein-4b', 7, 1000, '%s', 1), ('01OLDJOB000000000000000002', 'discord', 'u1', 'g1', '{}', 'a fox', '{}',
            '[]', 'FAILED', 'klein-4b', 8, 1000, NULL, 2)"""
              .formatted("cd".repeat(32)));
    }
    try (Database db = Database.sqlite(old)) {
      assertThat(pragma(db, "page_size")).isEqualTo("4096");
      long entries =
          db.read(
              c -> {
                try (var st = c.createStatement();
                    var rs =
                        st.executeQuery(
                            "SELECT COUNT(*) FROM jobs INDEXED BY jobs_by_image WHERE image_hash IS NOT NULL")) {
                  rs.next();
                  return rs.getLong(1);
                }
              });
      assertThat(entries)
          .as("V5 rebuilt the index with the old job that has an image")
          .isEqualTo(1);
      long jobs =
          db.read(
              c -> {
                try (var st = c.createStatement();
                    var rs = st.executeQuery("SELECT COUNT(*) FROM jobs")) {
                  rs.next();
                  return rs.getLong(1);
                }
              });
      assertThat(jobs).isEqualTo(2);
    }
  }

  @Test
  void onlyJobsWithAnImageAreIndexedByItAndTheInUseCheckStillFindsThemThroughTheIndex() {
    try (Database db = Database.sqlite(dir.resolve("fluxbot.db"))) {
      ModelCatalog catalog = ModelCatalog.builtIn();
      JobStore jobs = new JobStore(db, catalog, java.time.InstantSource.system());
      Requester who = new Requester("discord", "u1", "u1", "g1", java.util.Set.of(), false);
      GenerationRequest request =
          new CommandParser(catalog, CommandParser.Settings.defaults())
              .parse("a fox --seed 7", java.util.Map.of(), 1);
      String hash = "ab".repeat(32);
      for (String id : List.of("01JOBWITHIMAGE000000000001", "01JOBWITHOUTIMAGE000000002")) {
        jobs.create(
            JobStore.Job.queued(
                id,
                who,
                "a fox",
                request,
                List.of(),
                null,
                null,
                1000,
                null,
                null,
                java.time.Instant.now()));
      }
      jobs.succeed("01JOBWITHIMAGE000000000001", 1000, hash, ImageType.PNG, 1024, 1024, false);
      String plan =
          db.read(
              c -> {
                StringBuilder b = new StringBuilder();
                try (var st =
                    c.prepareStatement(
                        "EXPLAIN QUERY PLAN SELECT 1 FROM jobs WHERE image_hash = ?")) {
                  st.setString(1, hash);
                  try (var rs = st.executeQuery()) {
                    while (rs.next()) {
                      b.append(rs.getString("detail")).append('\n');
                    }
                  }
                }
                return b.toString();
              });
      assertThat(plan).contains("USING COVERING INDEX jobs_by_image");
      long indexed =
          db.read(
              c -> {
                try (var st = c.createStatement();
                    var rs =
                        st.executeQuery(
                            "SELECT COUNT(*) FROM jobs INDEXED BY jobs_by_image WHERE image_hash IS NOT NULL")) {
                  rs.next();
                  return rs.getLong(1);
                }
              });
      assertThat(indexed).isEqualTo(1);
      String definition =
          db.read(
              c -> {
                try (var st = c.createStatement();
                    var rs =
                        st.executeQuery(
                            "SELECT sql FROM sqlite_master WHERE name = 'jobs_by_image'")) {
                  rs.next();
                  return rs.getString(1);
                }
              });
      assertThat(definition)
          .as("a job without an image (the one still queued) has no entry")
          .endsWith("WHERE image_hash IS NOT NULL");
      assertThat(jobs.find("01JOBWITHIMAGE000000000001").orElseThrow().imageHash()).isEqualTo(hash);
    }
  }

  @Test
  void postgresGetsTheSameSchema() {
    try (Database db = postgres()) {
      assertThat(db.dialect()).isEqualTo(Database.Dialect.POSTGRESQL);
      assertThat(tables(db))
          .contains(
              "jobs",
              "quota_rules",
              "quota_usage",
              "quota_reservations",
              "bans",
              "seed_cache",
              "user_state");
      String definition =
          db.read(
              c -> {
                try (var st = c.createStatement();
                    var rs =
                        st.executeQuery(
                            "SELECT indexdef FROM pg_indexes WHERE indexname = 'jobs_by_image'")) {
                  rs.next();
                  return rs.getString(1);
                }
              });
      assertThat(definition).endsWith("WHERE (image_hash IS NOT NULL)");
    }
  }

  @Test
  void aFailedTransactionLeavesNothingBehind() {
    try (Database db = Database.sqlite(dir.resolve("t.db"))) {
      catchThrowableOfType(
          IllegalStateException.class,
          () ->
              db.transaction(
                  c -> {
                    try (var st = c.createStatement()) {
                      st.executeUpdate(
                          "INSERT INTO bans (platform, scope_id, user_id, created_at) VALUES ('cli', '*', 'u', 1)");
                    }
                    throw new IllegalStateException("changed my mind");
                  }));
      int rows =
          db.read(
              c -> {
                try (var st = c.createStatement();
                    var rs = st.executeQuery("SELECT COUNT(*) FROM bans")) {
                  rs.next();
                  return rs.getInt(1);
                }
              });
      assertThat(rows).isZero();
    }
  }

  @Test
  void anUnknownUrlIsRefusedNamingTheRule() {
    IllegalArgumentException e =
        catchThrowableOfType(
            IllegalArgumentException.class,
            () -> Database.open("jdbc:mysql://db/x?password=hunter2", null, null));
    assertThat(e.getMessage())
        .isEqualTo(
            "database URL: must start with jdbc:sqlite: or jdbc:postgresql:; got \"jdbc:mysql://db/x?password=***\"");
  }

  private static int count(Database db, String table) {
    return db.read(
        c -> {
          try (var st = c.prepareStatement("SELECT COUNT(*) FROM " + table);
              var rs = st.executeQuery()) {
            rs.next();
            return rs.getInt(1);
          }
        });
  }

  private static void ban(Database db, String user) {
    db.transaction(
        c -> {
          try (var st =
              c.prepareStatement(
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
    bothDatabases(dir)
        .forEach(
            db -> {
              try (db) {
                List<String> seen = new ArrayList<>();
                db.transaction(
                    outer -> {
                      ban(db, "a");
                      db.afterCommit(
                          () -> seen.add("committed with " + count(db, "bans") + " bans"));
                      assertThat(db.inTransaction()).isTrue();
                      assertThat(count(db, "bans"))
                          .as("a read inside sees the transaction's own writes")
                          .isEqualTo(1);
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
    bothDatabases(dir)
        .forEach(
            db -> {
              try (db) {
                List<String> seen = new ArrayList<>();
                IllegalStateException e =
                    catchThrowableOfType(
                        IllegalStateException.class,
                        () ->
                            db.transaction(
                                outer -> {
                                  ban(db, "a");
                                  db.afterCommit(() -> seen.add("ran"));
                                  return db.transaction(
                                      inner -> {
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
      Database.StoreException e =
          catchThrowableOfType(
              Database.StoreException.class,
              () ->
                  db.transaction(
                      outer -> {
                        ban(db, "a");
                        return db.read(
                            inner -> {
                              try (var st = inner.prepareStatement("SELECT user_id FROM nowhere")) {
                                return st.executeQuery();
                              }
                            });
                      }));
      assertThat(e.getMessage())
          .startsWith("database jdbc:sqlite:")
          .contains("no such table: nowhere");
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
      int busy =
          db.read(
              c -> {
                try (var st = c.createStatement();
                    var rs = st.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
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
    Thread writer =
        Thread.ofVirtual()
            .start(
                () ->
                    db.transaction(
                        c -> {
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

    Database.StoreException refused =
        catchThrowableOfType(Database.StoreException.class, () -> db.transaction(c -> 1));
    assertThat(refused).hasMessageContaining("is closed");
    try (Database again = Database.sqlite(file)) {
      assertThat(tables(again))
          .as("the write committed and nothing holds the file's lock")
          .contains("t");
    }
  }
}
