package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.SchemaVersions;
import dev.fluxbot.testkit.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An older fluxbot meeting a database a newer one migrated (a row in {@code flyway_schema_history}
 * this jar has no migration for) refuses to run on it, in one line, exit 2.
 */
class UpgradeTest {
  @TempDir Path dir;

  /** Records a migration V99 that no fluxbot of this build has, applied by "fluxbot 9.9.9". */
  static void insertFutureMigration(Connection c, Database.Dialect dialect) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.executeUpdate(
          "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
              + " checksum, installed_by, execution_time, success) VALUES ((SELECT MAX(installed_rank)"
              + " + 1 FROM flyway_schema_history), '99', 'future feature', 'SQL',"
              + " 'V99__future_feature.sql', 0, 'fluxbot 9.9.9', 1, "
              + (dialect == Database.Dialect.SQLITE ? "1" : "TRUE")
              + ")");
    }
  }

  private record Run(int exit, String err) {}

  private Run fluxbot(Map<String, String> env, String... args) throws Exception {
    Path err = dir.resolve("err.txt");
    Process p =
        FluxbotProcess.builder(dir, env, args)
            .redirectOutput(dir.resolve("out.txt").toFile())
            .redirectError(err.toFile())
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), Files.readString(err));
  }

  private static void assertRefusal(Run run) {
    assertThat(run.exit()).as(run.err()).isEqualTo(2);
    assertThat(run.err())
        .contains("the database was upgraded by fluxbot 9.9.9 (schema [V99 future feature])")
        .contains("knows only up to V12")
        .contains("run the newer fluxbot, or restore the backup taken before the upgrade")
        .doesNotContain("Exception")
        .doesNotContain("\tat ");
    assertThat(run.err().lines().filter(l -> !l.isBlank())).hasSize(1);
  }

  @Test
  void onSqliteTheOlderFluxbotRefusesTheNewerSchemaAndChangesNothing() throws Exception {
    Path file = dir.resolve("data/fluxbot.db");
    try (Database db = Database.sqlite(file)) {
      db.read(
          c -> {
            insertFutureMigration(c, Database.Dialect.SQLITE);
            return null;
          });
    }
    assertRefusal(fluxbot(Map.of(), "jobs", "list"));
    assertRefusal(fluxbot(Map.of("FLUXBOT_TELEGRAM_TOKEN", "1:x"), "run"));

    assertThatThrownBy(() -> Database.sqlite(file))
        .isInstanceOf(SchemaVersions.NewerSchemaException.class);
    assertThat(Backups.schema(file).isNewer()).isTrue();
  }

  @Test
  void onPostgresqlTheOlderFluxbotRefusesTheNewerSchema() throws Exception {
    if (!PostgresServer.isRequired()) {
      Assumptions.assumeTrue(PostgresServer.isAvailable(), "PostgreSQL binaries not installed");
    }
    String url = PostgresServer.newDatabaseUrl();
    try (Database db = Database.open(url, null, null)) {
      db.read(
          c -> {
            insertFutureMigration(c, Database.Dialect.POSTGRESQL);
            return null;
          });
    }
    assertRefusal(fluxbot(Map.of("FLUXBOT_DATABASE_URL", url), "jobs", "list"));
  }
}
