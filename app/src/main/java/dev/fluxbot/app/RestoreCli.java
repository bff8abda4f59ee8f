package dev.fluxbot.app;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.core.store.SchemaVersions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code fluxbot restore DIR}: puts a backup made by {@code fluxbot backup} in place of the SQLite
 * database and the local images, with the bot stopped. It checks the backup first (every file's
 * checksum, {@code PRAGMA integrity_check}, a schema this fluxbot knows), and keeps what it
 * replaces as {@code *.before-restore-<time>}.
 */
@Command(
    name = "restore",
    mixinStandardHelpOptions = true,
    description = {
      "Puts the backup in DIR (made by fluxbot backup) in place of the SQLite database and the"
          + " local images; stop the bot first. What it replaces is kept as"
          + " *.before-restore-<time>.",
      "On PostgreSQL: use pg_restore (see docs/operations.md)."
    })
final class RestoreCli implements Callable<Integer> {
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  @CommandLine.ParentCommand Main main;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "DIR", description = "A folder fluxbot backup wrote.")
  Path dir;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      FluxbotConfig config = main.loadConfig(main.environment);
      if (Wiring.databaseUrl(config.storage(), main.environment).isPresent()) {
        err.println(
            "fluxbot: restore: the database is PostgreSQL; restore it with pg_restore (the command"
                + " fluxbot backup printed; see docs/operations.md), not with fluxbot restore");
        return Main.USER_ERROR;
      }
      Path dataDir = Path.of(config.storage().dataDir());
      boolean s3 = ImageStores.s3(config.storage(), main.environment).isPresent();
      Path live = dataDir.resolve("fluxbot.db");
      try (RunLock ignored =
          RunLock.take(live)) { // refused while a bot runs; none starts meanwhile
        List<String> done = restore(dataDir, live, s3);
        done.forEach(out::println);
      }
      return Main.OK;
    } catch (Backups.BackupException e) {
      err.println("fluxbot: restore: " + e.getMessage());
      return Main.USER_ERROR;
    } catch (FluxbotConfig.ConfigException | IllegalArgumentException e) {
      err.println("fluxbot: restore: " + e.getMessage());
      return Main.USER_ERROR;
    }
  }

  /** Checks the backup, then moves the old files aside and puts the backup's in; says what. */
  private List<String> restore(Path dataDir, Path live, boolean s3) {
    JsonNode manifest = Backups.verify(dir);
    List<String> said = new ArrayList<>();
    said.add(
        "Checked "
            + manifest.path("files").size()
            + " file(s) against "
            + dir.resolve(Backups.MANIFEST)
            + " (backup of "
            + manifest.path("created_at").asText("an unknown time")
            + " by "
            + manifest.path("fluxbot").asText("fluxbot")
            + ").");
    String stamp = STAMP.format(Instant.now());
    try {
      Files.createDirectories(dataDir);
      Path incoming = dataDir.resolve("fluxbot.db.restoring-" + stamp);
      Files.copy(dir.resolve(Backups.DATABASE), incoming, StandardCopyOption.REPLACE_EXISTING);
      try {
        Backups.integrityCheck(incoming);
        SchemaVersions.Status schema = Backups.schema(incoming);
        if (schema.isNewer()) {
          throw new Backups.BackupException(
              "the backup's schema is newer than this fluxbot's: " + schema.refusal());
        }
        said.add("The database passed PRAGMA integrity_check; schema " + schema.applied() + ".");
        for (String suffix : List.of("", "-wal", "-shm")) {
          Path old = live.resolveSibling(live.getFileName() + suffix);
          if (Files.exists(old)) {
            Path kept =
                live.resolveSibling(live.getFileName() + ".before-restore-" + stamp + suffix);
            Files.move(old, kept);
            said.add("Kept the old " + old.getFileName() + " as " + kept + ".");
          }
        }
        Files.move(incoming, live, StandardCopyOption.ATOMIC_MOVE);
        said.add("Restored the database to " + live + ".");
      } finally {
        Files.deleteIfExists(incoming);
      }
      said.add(images(dataDir, stamp, s3));
    } catch (IOException e) {
      throw new Backups.BackupException("cannot put the backup in place: " + e, e);
    }
    said.add("Start the bot as usual; it resumes the jobs the backup had unfinished.");
    return said;
  }

  /** Moves the local images aside and copies the backup's in; one sentence on what it did. */
  private String images(Path dataDir, String stamp, boolean s3) throws IOException {
    Path from = dir.resolve(Backups.IMAGES);
    if (s3) {
      return "The images are in S3 and were not touched"
          + (Files.isDirectory(from) ? " (the backup's local images were not used)." : ".");
    }
    if (!Files.isDirectory(from)) {
      return "The backup holds no local images; the image store was not touched.";
    }
    Path images = ImageStores.localFolder(dataDir);
    String kept = "";
    if (Files.exists(images)) {
      Path aside = images.resolveSibling(images.getFileName() + ".before-restore-" + stamp);
      Files.move(images, aside);
      kept = " (the old ones kept as " + aside + ")";
    }
    int n = 0;
    for (Path f : Backups.files(from)) {
      Path to = images.resolve(from.relativize(f).toString());
      Files.createDirectories(to.getParent());
      Files.copy(f, to);
      n++;
    }
    return "Restored " + n + " image file(s) to " + images + kept + ".";
  }
}
