package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code doctor} looks at the database and changes nothing: no folder, no file, no migration. */
class DoctorCliTest {
  @TempDir Path dir;

  private Path config;
  private Path db;

  record Run(int exit, String out, String err) {}

  @BeforeEach
  void config() throws Exception {
    config = Files.writeString(dir.resolve("fluxbot.yaml"), "storage:\n  data_dir: data\n");
    db = dir.resolve("data/fluxbot.db");
  }

  private Run fluxbot(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] all = new String[args.length + 1];
    all[0] = args[0];
    all[1] = "--config=" + config;
    System.arraycopy(args, 1, all, 2, args.length - 1);
    int exit =
        Main.run(
            all,
            new Environment(Map.of("BFL_API_KEY", "bfl-test-key", "FLUXBOT_TELEGRAM_TOKEN", "1:x")),
            new PrintWriter(out, true),
            new PrintWriter(err, true));
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void onAFreshMachineItCreatesNothing() {
    Run run = fluxbot("doctor");

    assertThat(run.out())
        .contains(
            "--    database: SQLite " + db + " does not exist yet; run (or imagine) creates it");
    assertThat(dir.resolve("data")).doesNotExist();
  }

  @Test
  void itNamesTheSchemaAndNeverMigrates() throws Exception {
    assertThat(fluxbot("quota", "show", "--user", "cli:bob").exit()).isZero(); // creates it
    String latest = latestVersion();
    assertThat(fluxbot("doctor").out())
        .contains("ok    database: SQLite " + db + " opens, schema V" + latest + ", up to date");

    sql("DELETE FROM flyway_schema_history WHERE version = '" + latest + "'");
    String before = latestVersion(); // versions may have gaps (each branch of issue 18 has its own)
    Run older = fluxbot("doctor");
    assertThat(older.out())
        .contains(
            "--    database: SQLite "
                + db
                + " opens; schema V"
                + before
                + "; run brings it to V"
                + latest
                + " at its start (1 migration(s))");
    assertThat(latestVersion()).as("doctor migrated nothing").isEqualTo(before);
  }

  @Test
  void aSchemaFromANewerFluxbotIsAFailure() throws Exception {
    assertThat(fluxbot("quota", "show", "--user", "cli:bob").exit()).isZero();
    sql(
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
            + " checksum, installed_by, execution_time, success) VALUES (999, '999', 'future',"
            + " 'SQL', 'V999__future.sql', 0, 'test', 1, 1)");

    Run run = fluxbot("doctor");

    assertThat(run.exit()).isEqualTo(Main.BACKEND_FAILURE);
    assertThat(run.out())
        .contains(
            "FAIL  database: SQLite "
                + db
                + " opens; refused: the database was upgraded by a newer fluxbot (schema [V999"
                + " future]) and this fluxbot")
        .contains("run the newer fluxbot, or restore the backup");
  }

  private String latestVersion() throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT MAX(CAST(version AS INTEGER)) FROM flyway_schema_history WHERE success = 1")) {
      rs.next();
      return String.valueOf(rs.getInt(1));
    }
  }

  private void sql(String statement) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement()) {
      st.execute(statement);
    }
  }
}
