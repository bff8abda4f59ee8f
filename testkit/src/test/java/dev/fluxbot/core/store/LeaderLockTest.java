package dev.fluxbot.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader lock: on a real PostgreSQL one of two instances (two {@link Database} objects on one
 * database) holds a name at a time, and a holder that closes, whose connection is killed, or whose
 * process is killed with SIGKILL frees it at once; on SQLite it is always granted.
 */
class LeaderLockTest {
  private static final String NAME = "telegram-polling:123456789";

  @TempDir Path dir;

  private static String postgresUrl() {
    if (!PostgresServer.isRequired()) {
      Assumptions.assumeTrue(PostgresServer.isAvailable(), "PostgreSQL binaries not installed");
    }
    return PostgresServer.newDatabaseUrl();
  }

  @Test
  void onPostgresOneOfTwoInstancesHoldsItAndClosingLetsTheOtherTakeIt() {
    String url = postgresUrl();
    try (Database one = Database.open(url, null, null);
        Database two = Database.open(url, null, null)) {
      LeaderLock first = one.leaderLock(NAME);
      LeaderLock second = two.leaderLock(NAME);
      LeaderLock otherName = two.leaderLock("telegram-polling:42");

      assertThat(first.tryAcquire()).isTrue();
      assertThat(second.tryAcquire()).as("another instance holds it").isFalse();
      assertThat(otherName.tryAcquire()).as("another name is another lock").isTrue();
      assertThat(first.tryAcquire()).as("the holder again").isTrue();
      assertThat(first.check()).isTrue();
      assertThat(second.check()).isFalse();
      assertThat(heldLocks(two)).as("one advisory lock per held name").isEqualTo(2);

      first.release();
      assertThat(first.held()).isFalse();
      assertThat(second.tryAcquire()).as("released: the standby takes it").isTrue();
      assertThat(first.tryAcquire()).isFalse();

      second.close();
      assertThat(first.tryAcquire()).as("closed: the first takes it back").isTrue();
      assertThat(second.tryAcquire()).as("a closed lock is never taken again").isFalse();
    }
  }

  @Test
  void onPostgresTwoLocksOfOneDatabaseObjectAlsoExcludeEachOther() {
    try (Database db = Database.open(postgresUrl(), null, null)) {
      LeaderLock a = db.leaderLock(NAME);
      LeaderLock b = db.leaderLock(NAME);
      assertThat(a.tryAcquire()).isTrue();
      assertThat(b.tryAcquire()).as("each lock has a session of its own").isFalse();
      db.close();
      assertThat(a.held()).as("closing the database closes its locks").isFalse();
    }
  }

  @Test
  void onPostgresAKilledBackendFreesTheLockAndItsHolderNoticesAtItsNextCheck() {
    String url = postgresUrl();
    try (Database one = Database.open(url, null, null);
        Database two = Database.open(url, null, null)) {
      LeaderLock holder = one.leaderLock(NAME);
      LeaderLock standby = two.leaderLock(NAME);
      assertThat(holder.tryAcquire()).isTrue();
      assertThat(standby.tryAcquire()).isFalse();

      int killed =
          two.read(
              c -> {
                try (PreparedStatement st =
                    c.prepareStatement(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                            + " WHERE locktype = 'advisory' AND objid::bigint = ?"
                            + " AND database = (SELECT oid FROM pg_database"
                            + " WHERE datname = current_database())")) {
                  st.setLong(1, LeaderLock.keyOf(NAME) & 0xFFFF_FFFFL);
                  try (ResultSet rs = st.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                  }
                }
              });
      assertThat(killed).isEqualTo(1);

      Await.until("the standby takes the freed lock", Duration.ofSeconds(5), standby::tryAcquire);
      assertThat(holder.held()).as("not noticed before it checks").isTrue();
      assertThat(holder.check()).as("its connection is gone").isFalse();
      assertThat(holder.held()).isFalse();
      assertThat(holder.tryAcquire()).isFalse();
    }
  }

  @Test
  void onPostgresTheLockOfAProcessKilledWithSigkillIsFreeAtOnce() throws Exception {
    String url = postgresUrl();
    Path psql = Path.of("/usr/bin/psql");
    Assumptions.assumeTrue(Files.isExecutable(psql), "psql not installed");
    // jdbc:postgresql://127.0.0.1:<port>/<database>?user=fluxbot
    String rest = url.substring("jdbc:postgresql://".length());
    String port = rest.substring(rest.indexOf(':') + 1, rest.indexOf('/'));
    String database = rest.substring(rest.indexOf('/') + 1, rest.indexOf('?'));
    String user = rest.substring(rest.indexOf("user=") + 5);
    try (Database db = Database.open(url, null, null)) {
      LeaderLock standby = db.leaderLock(NAME);
      // psql takes the lock, then sits idle on its session waiting for the next command (stdin
      // stays open), as a leader's lock connection sits between its checks. (A backend busy in a
      // query, e.g. pg_sleep, would notice the dead client only when the query ends.)
      Process other =
          new ProcessBuilder(
                  psql.toString(), "-h", "127.0.0.1", "-p", port, "-U", user, "-d", database)
              .redirectErrorStream(true)
              .start();
      other
          .getOutputStream()
          .write(
              ("SELECT pg_advisory_lock(" + LeaderLock.keyOf(NAME) + ");\n")
                  .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      other.getOutputStream().flush();
      try {
        Await.until(
            "the other process holds the lock",
            Duration.ofSeconds(20),
            () -> heldLocks(db) == 1 || !other.isAlive());
        assertThat(other.isAlive()).as("psql runs").isTrue();
        assertThat(standby.tryAcquire()).isFalse();

        other.destroyForcibly(); // SIGKILL: its socket closes, the server ends its session
        assertThat(other.waitFor(10, TimeUnit.SECONDS)).isTrue();
        long killedAt = System.nanoTime();
        Await.until("the standby takes the lock", Duration.ofSeconds(10), standby::tryAcquire);
        assertThat(Duration.ofNanos(System.nanoTime() - killedAt))
            .as("freed with the dead process's connection")
            .isLessThan(Duration.ofSeconds(2));
      } finally {
        other.destroyForcibly();
      }
    }
  }

  @Test
  void onSqliteItIsAlwaysGranted() {
    try (Database db = Database.sqlite(dir.resolve("fluxbot.db"))) {
      LeaderLock a = db.leaderLock(NAME);
      LeaderLock b = db.leaderLock(NAME);
      assertThat(a.tryAcquire()).isTrue();
      assertThat(b.tryAcquire()).isTrue();
      assertThat(a.check()).isTrue();
      a.close();
      assertThat(a.held()).isFalse();
      assertThat(a.tryAcquire()).isFalse();
    }
  }

  @Test
  void theKeyIsAStableHashOfTheName() {
    assertThat(LeaderLock.keyOf(NAME)).isEqualTo(LeaderLock.keyOf(NAME));
    assertThat(LeaderLock.keyOf(NAME)).isNotEqualTo(LeaderLock.keyOf("telegram-polling:1"));
  }

  private static int heldLocks(Database db) {
    return db.read(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                      + " AND database = (SELECT oid FROM pg_database"
                      + " WHERE datname = current_database())")) {
            try (ResultSet rs = st.executeQuery()) {
              rs.next();
              return rs.getInt(1);
            }
          }
        });
  }
}
