package dev.fluxbot.core.store;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;

/**
 * The schema's versions: the migrations this fluxbot carries ({@code db/migration}) and those a
 * database has had ({@code flyway_schema_history}).
 *
 * <p>An older fluxbot meeting a database that a newer one migrated must not run on it: its code
 * does not know the new tables and columns. Flyway alone would let it (its default {@code
 * ignoreMigrationPatterns} is {@code *:future}: validation passes and {@code migrate} only logs a
 * warning that the schema is newer), so {@link #refuseNewer} checks first and says what to do. Each
 * migration records the fluxbot that applied it in {@code installed_by}, so that the message can
 * name it.
 */
public final class SchemaVersions {
  private SchemaVersions() {}

  /** Flyway on {@code dataSource} with fluxbot's migrations. */
  static Flyway flyway(DataSource dataSource) {
    return Flyway.configure(SchemaVersions.class.getClassLoader())
        .dataSource(dataSource)
        .locations("classpath:db/migration")
        .installedBy(fluxbotVersion())
        .load();
  }

  /** {@code fluxbot 0.2.0}, or {@code fluxbot (development build)} outside a released jar. */
  public static String fluxbotVersion() {
    String v = SchemaVersions.class.getPackage().getImplementationVersion();
    return "fluxbot " + (v == null ? "(development build)" : v);
  }

  /**
   * Where a database's schema stands against this fluxbot.
   *
   * @param applied the newest version the database has had ({@code V9}), or null for an empty one
   * @param known the newest version this fluxbot carries
   * @param pending how many migrations this fluxbot would apply at its start
   * @param newer the versions the database has and this fluxbot does not know, oldest first
   */
  public record Status(String applied, String known, int pending, List<MigrationInfo> newer) {
    public Status {
      newer = List.copyOf(newer);
    }

    /** Whether a newer fluxbot migrated the database. */
    public boolean isNewer() {
      return !newer.isEmpty();
    }

    /**
     * What the user is told: who upgraded the database, to what, and what this fluxbot knows; and
     * what to do.
     */
    public String refusal() {
      MigrationInfo last = newer.get(newer.size() - 1);
      String by = last.getInstalledBy();
      return "the database was upgraded by "
          + (by != null && by.startsWith("fluxbot ") ? by : "a newer fluxbot")
          + " (schema "
          + newer.stream().map(m -> "V" + m.getVersion() + " " + m.getDescription()).toList()
          + ") and this fluxbot ("
          + fluxbotVersion()
          + ") knows only up to "
          + known
          + ": run the newer fluxbot, or restore the backup taken before the upgrade"
          + " (fluxbot restore DIR; see docs/operations.md)";
    }
  }

  /** Reads the database's history (it changes nothing). */
  public static Status status(DataSource dataSource) {
    return status(flyway(dataSource));
  }

  /**
   * Reads the history of the database at {@code jdbcUrl} over one plain connection (it changes
   * nothing; a SQLite file must exist, or the driver creates it).
   */
  public static Status status(String jdbcUrl, String user, String password) {
    return status(
        Flyway.configure(SchemaVersions.class.getClassLoader())
            .dataSource(jdbcUrl, user, password)
            .locations("classpath:db/migration")
            .load());
  }

  static Status status(Flyway flyway) {
    var info = flyway.info();
    MigrationInfo[] all = info.all();
    List<MigrationInfo> newer =
        Arrays.stream(all)
            .filter(
                m ->
                    m.getState() == MigrationState.FUTURE_SUCCESS
                        || m.getState() == MigrationState.FUTURE_FAILED)
            .filter(m -> m.getVersion() != null)
            .sorted(Comparator.comparing(MigrationInfo::getVersion))
            .toList();
    Optional<MigrationInfo> known =
        Arrays.stream(all)
            .filter(m -> m.getState().isResolved() && m.getVersion() != null)
            .max(Comparator.comparing(MigrationInfo::getVersion));
    Optional<MigrationInfo> applied =
        Arrays.stream(all)
            .filter(m -> m.isApplied() && m.getVersion() != null)
            .max(Comparator.comparing(MigrationInfo::getVersion));
    return new Status(
        applied.map(m -> "V" + m.getVersion()).orElse(null),
        known.map(m -> "V" + m.getVersion()).orElse("V0"),
        info.pending().length,
        newer);
  }

  /**
   * Refuses a database that a newer fluxbot migrated.
   *
   * @throws NewerSchemaException saying who upgraded it and what to do
   */
  static void refuseNewer(Flyway flyway) {
    Status status = status(flyway);
    if (status.isNewer()) {
      throw new NewerSchemaException(status.refusal());
    }
  }

  /**
   * The database's schema is newer than this fluxbot's: a newer fluxbot migrated it. Not a defect:
   * the message says what to do.
   */
  public static final class NewerSchemaException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    NewerSchemaException(String message) {
      super(message);
    }
  }
}
