package dev.fluxbot.app;

import dev.fluxbot.core.Secret;
import java.util.Arrays;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.MigrationVersion;

/**
 * What {@code doctor} says of a database's schema without changing it: Flyway's {@code info}, which
 * only reads the schema history (and finds none in an empty database).
 */
final class SchemaCheck {
  private SchemaCheck() {}

  /**
   * @param applied the newest migration applied, or null in an empty database
   * @param known the newest migration this fluxbot carries
   * @param pending how many migrations {@code run} would apply at its start
   * @param newer the newest migration applied that this fluxbot does not know (a newer fluxbot ran
   *     on this database), or null
   */
  record Schema(String applied, String known, int pending, String newer) {
    String describe() {
      if (newer != null) {
        return "schema V"
            + newer
            + " was written by a newer fluxbot; this one knows up to V"
            + known
            + " and refuses to start on it. Run the newer fluxbot, or restore the backup taken"
            + " before the upgrade";
      } else if (pending == 0) {
        return "schema V" + applied + ", up to date";
      } else if (applied == null) {
        return "empty; run creates the schema (V" + known + ") at its start";
      }
      return "schema V"
          + applied
          + "; run brings it to V"
          + known
          + " at its start ("
          + pending
          + " migration(s))";
    }
  }

  /** Reads the schema history of {@code jdbcUrl}; the database must exist. */
  static Schema inspect(String jdbcUrl, String user, Secret password) {
    MigrationInfoService info =
        Flyway.configure(SchemaCheck.class.getClassLoader())
            .dataSource(jdbcUrl, user, password == null ? null : password.reveal())
            .locations("classpath:db/migration")
            .load()
            .info();
    MigrationInfo[] all = info.all();
    String known =
        Arrays.stream(all)
            .filter(m -> m.getState().isResolved() && m.getVersion() != null)
            .map(MigrationInfo::getVersion)
            .max(MigrationVersion::compareTo)
            .map(MigrationVersion::getVersion)
            .orElse("0");
    String newer =
        Arrays.stream(all)
            .filter(
                m ->
                    m.getState() == MigrationState.FUTURE_SUCCESS
                        || m.getState() == MigrationState.FUTURE_FAILED)
            .map(MigrationInfo::getVersion)
            .max(MigrationVersion::compareTo)
            .map(MigrationVersion::getVersion)
            .orElse(null);
    MigrationInfo current = info.current();
    return new Schema(
        current == null || current.getVersion() == null ? null : current.getVersion().getVersion(),
        known,
        info.pending().length,
        newer);
  }
}
