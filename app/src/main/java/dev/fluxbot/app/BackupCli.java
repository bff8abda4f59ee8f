package dev.fluxbot.app;

import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.SchemaVersions;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fluxbot backup DIR}: a consistent copy of the SQLite database and the local image store,
 * made while the bot runs, with a manifest of checksums ({@link Backups}). On PostgreSQL it says
 * how to run {@code pg_dump}, and copies the images if they are local.
 */
@Command(
    name = "backup",
    mixinStandardHelpOptions = true,
    description = {
      "Copies the database (SQLite) and the local images into DIR while the bot runs, with a"
          + " manifest.json of checksums. On PostgreSQL it prints the pg_dump command to use.",
      "Restore with: fluxbot restore DIR (see docs/operations.md)."
    })
final class BackupCli implements Callable<Integer> {
  @CommandLine.ParentCommand Main main;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "DIR", description = "A new or empty folder for the backup.")
  Path dir;

  @Option(names = "--force", description = "Write into DIR even if it is not empty.")
  boolean force;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      FluxbotConfig config = main.loadConfig(main.environment);
      Path dataDir = Path.of(config.storage().dataDir());
      boolean s3 = ImageStores.s3(config.storage(), main.environment).isPresent();
      Optional<String> postgres = Wiring.databaseUrl(config.storage(), main.environment);
      if (postgres.isPresent()) {
        return postgres(out, err, postgres.get(), config.storage().databaseUser(), s3, dataDir);
      }
      return sqlite(out, dataDir, s3);
    } catch (Backups.BackupException e) {
      err.println("fluxbot: backup: " + e.getMessage());
      return Main.USER_ERROR;
    } catch (FluxbotConfig.ConfigException | IllegalArgumentException e) {
      err.println("fluxbot: " + e.getMessage());
      return Main.USER_ERROR;
    }
  }

  /** SQLite: the snapshot, then the local images, then the manifest. */
  private int sqlite(PrintWriter out, Path dataDir, boolean s3) {
    Backups.prepareTarget(dir, force);
    Path db = dir.resolve(Backups.DATABASE);
    Backups.snapshotSqlite(dataDir.resolve("fluxbot.db"), db);
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("database", "sqlite");
    facts.put("schema", Backups.schema(db).applied());
    Map<String, Object> counts = new LinkedHashMap<>(Backups.jobCounts(db));
    if (!s3) {
      Backups.ImageCopy copy =
          Backups.copyImages(
              ImageStores.localFolder(dataDir),
              dir.resolve(Backups.IMAGES),
              Backups.referencedImages(db));
      counts.put("images_referenced", copy.referenced());
      counts.put("images_gone_from_store", copy.goneFromStore().size());
      counts.put("image_files", copy.files());
    }
    facts.put("images", s3 ? "s3 (not in this backup)" : "local");
    facts.put("counts", counts);
    Backups.writeManifest(dir, facts);
    out.println(
        "Backed up "
            + counts.get("jobs")
            + " job(s), schema "
            + facts.get("schema")
            + ", to "
            + dir
            + (s3
                ? ". The images are in S3 and not in this backup: " + S3_ADVICE
                : " with "
                    + counts.get("image_files")
                    + " image file(s)"
                    + gone(counts.get("images_gone_from_store"))
                    + ".")
            + " Restore with: fluxbot restore "
            + dir);
    return Main.OK;
  }

  private static String gone(Object count) {
    return count instanceof Integer n && n > 0
        ? " ("
            + n
            + " image(s) that old jobs refer to had already left the store, by its size limit)"
        : "";
  }

  static final String S3_ADVICE =
      "keep them safe with the bucket's own versioning and replication (S3 Versioning, and"
          + " Cross-Region or Same-Region Replication, or your S3-compatible server's equivalent);"
          + " images are never changed in place, only added and removed.";

  /** PostgreSQL: the exact pg_dump command; the local images are copied. */
  private int postgres(
      PrintWriter out, PrintWriter err, String url, String user, boolean s3, Path dataDir) {
    out.println(pgDumpAdvice(url, user, dir));
    if (s3) {
      out.println();
      out.println("The images are in S3: " + S3_ADVICE);
      err.println(
          "fluxbot: backup: nothing copied: on PostgreSQL with the images in S3, back up with"
              + " pg_dump and the bucket's versioning as said above");
      return Main.USER_ERROR;
    }
    Backups.prepareTarget(dir, force);
    Backups.ImageCopy copy =
        Backups.copyImages(
            ImageStores.localFolder(dataDir), dir.resolve(Backups.IMAGES), java.util.Set.of());
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("database", "postgresql (not in this backup: pg_dump)");
    facts.put("images", "local");
    facts.put("counts", Map.of("image_files", copy.files()));
    Backups.writeManifest(dir, facts);
    out.println();
    out.println(
        "Copied "
            + copy.files()
            + " image file(s) to "
            + dir
            + ". Run pg_dump first, then this, so that the images cover every job in the dump.");
    return Main.OK;
  }

  /** One paragraph: how to dump (and restore) the configured PostgreSQL database. */
  static String pgDumpAdvice(String jdbcUrl, String configuredUser, Path dir) {
    String target =
        libpqUri(jdbcUrl, configuredUser).orElse("postgresql://USER@HOST:PORT/DATABASE");
    Path dump = dir.resolve("fluxbot.pgdump");
    return "The database is PostgreSQL ("
        + Database.redact(jdbcUrl)
        + "): fluxbot does not copy it itself. Back it up with PostgreSQL's own tool, which takes"
        + " a consistent snapshot while the bots run:\n\n    pg_dump --format=custom --file="
        + dump
        + " '"
        + target
        + "'\n\nThe password comes from PGPASSWORD or ~/.pgpass (it is not shown here). Restore"
        + " it, with every bot stopped, by: pg_restore --clean --if-exists --dbname='"
        + target
        + "' "
        + dump
        + "\n"
        + "The schema must not be newer than the fluxbot that runs on it ("
        + SchemaVersions.fluxbotVersion()
        + ").";
  }

  /** {@code postgresql://USER@HOST:PORT/DB} from a JDBC URL, without the password; or empty. */
  static Optional<String> libpqUri(String jdbcUrl, String configuredUser) {
    try {
      URI u = new URI(jdbcUrl.substring("jdbc:".length()));
      if (u.getHost() == null || u.getPath() == null || u.getPath().length() < 2) {
        return Optional.empty();
      }
      String user = configuredUser;
      if (user == null && u.getRawQuery() != null) {
        for (String pair : u.getRawQuery().split("&")) {
          if (pair.startsWith("user=")) {
            user =
                java.net.URLDecoder.decode(
                    pair.substring(5), java.nio.charset.StandardCharsets.UTF_8);
          }
        }
      }
      if (user == null && u.getUserInfo() != null) {
        user = u.getUserInfo().split(":", 2)[0];
      }
      return Optional.of(
          "postgresql://"
              + (user == null ? "" : user + "@")
              + u.getHost()
              + ":"
              + (u.getPort() < 0 ? 5432 : u.getPort())
              + u.getPath());
    } catch (URISyntaxException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
