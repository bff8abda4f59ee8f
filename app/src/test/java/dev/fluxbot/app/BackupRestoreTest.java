package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fluxbot backup} while a real core on SQLite runs a burst of jobs against the fake BFL, and
 * {@code fluxbot restore} of what it made; the restore's refusals.
 */
class BackupRestoreTest {
  private static final String KEY = "sk-backup-test";
  private static final int USERS = 10;

  @RegisterExtension final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(KEY));
  private final FakeBflApi bfl = bflFake.get();

  @TempDir Path dir;

  private record Result(int exit, String out, String err) {}

  /** {@code fluxbot --config <dir>/NAME.yaml ARGS} in this JVM, on the data folder {@code data}. */
  private Result fluxbot(String data, String... args) throws Exception {
    return fluxbot(Map.of(), data, args);
  }

  private Result fluxbot(Map<String, String> env, String data, String... args) throws Exception {
    Path config = dir.resolve(data + ".yaml");
    Files.writeString(config, "storage:\n  data_dir: " + dir.resolve(data) + "\n");
    List<String> all = new ArrayList<>(List.of("--config", config.toString()));
    all.addAll(List.of(args));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit =
        Main.run(
            all.toArray(String[]::new),
            new Environment(env),
            new PrintWriter(out, true),
            new PrintWriter(err, true));
    return new Result(exit, out.toString(), err.toString());
  }

  private FluxbotCore core(Database db, Path images) {
    BflBackend backend =
        new BflBackend(
            BflConfig.defaults(Secret.of(KEY)).withBaseUrl(URI.create(bfl.baseUrl())),
            new OkHttpClient(),
            InstantSource.system(),
            Sleeper.SYSTEM,
            new Random(1));
    return FluxbotCore.builder(db)
        .imagesIn(images)
        .backends(List.of(backend))
        .quotaSettings(
            new QuotaService.Settings(
                ZoneOffset.UTC, QuotaService.Period.DAY, 10_000_000, 1_000, null))
        .schedulerSettings(new JobScheduler.Settings(8, Map.of(), 10_000))
        .build();
  }

  /** The jobs that succeeded, and their images' hashes. */
  private static Map<String, String> succeeded(Connection c) throws java.sql.SQLException {
    Map<String, String> out = new LinkedHashMap<>();
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT id, image_hash FROM jobs WHERE state = 'SUCCEEDED'")) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getString(2));
      }
    }
    return out;
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  @Test
  void aBackupTakenDuringABurstOfJobsRestoresEveryJobFinishedBeforeItWithItsImage()
      throws Exception {
    Path data = dir.resolve("live");
    List<CompletableFuture<ImageReply>> jobs = new CopyOnWriteArrayList<>();
    Map<String, String> before;
    int unfinishedAtBackup;
    Result backup;
    try (Database db = Database.sqlite(data.resolve("fluxbot.db"));
        FluxbotCore core = core(db, data.resolve("images"))) {
      AtomicBoolean submitting = new AtomicBoolean(true);
      Thread submitter =
          Thread.ofVirtual()
              .start(
                  () -> {
                    for (int i = 0; submitting.get() && i < 400; i++) {
                      bfl.enqueue(Scenario.statuses("Pending", "Ready"));
                      Requester who =
                          new Requester(
                              "telegram", "u" + (i % USERS), "U", "chat", Set.of(), false);
                      jobs.add(
                          core.imagine()
                              .submit(
                                  new ImagineCommand(
                                      who,
                                      "a fox number " + i + " --seed " + (1000 + i),
                                      Map.of(),
                                      List.of()),
                                  ChatReply.silent(),
                                  null));
                      try {
                        Thread.sleep(15);
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  });
      Await.until(
          "ten jobs succeeded",
          Duration.ofSeconds(60),
          () -> db.read(BackupRestoreTest::succeeded).size() >= 10);
      before = db.read(BackupRestoreTest::succeeded);
      unfinishedAtBackup = (int) jobs.stream().filter(f -> !f.isDone()).count();
      backup = fluxbot("live", "backup", dir.resolve("bk").toString());
      submitting.set(false);
      submitter.join();
      CompletableFuture.allOf(jobs.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
      assertThat(db.read(BackupRestoreTest::succeeded))
          .as("the burst went on after the backup")
          .hasSizeGreaterThan(before.size());
    }
    assertThat(backup.exit()).as(backup.err()).isZero();
    System.out.printf(
        "backup during a burst: %d job(s) succeeded before it, %d unfinished when it began,"
            + " %d submitted in all%n",
        before.size(), unfinishedAtBackup, jobs.size());
    assertThat(unfinishedAtBackup).as("jobs were running while the backup ran").isPositive();
    assertThat(backup.out()).contains("Backed up").contains("Restore with: fluxbot restore");

    Result restore = fluxbot("restored", "restore", dir.resolve("bk").toString());
    assertThat(restore.exit()).as(restore.err()).isZero();
    assertThat(restore.out())
        .contains("passed PRAGMA integrity_check")
        .contains("Restored the database")
        .contains("image file(s)");

    Path restored = dir.resolve("restored");
    try (Connection c = Backups.sqlite(restored.resolve("fluxbot.db"));
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("ok");
      Map<String, String> after = succeeded(c);
      assertThat(after).containsAllEntriesOf(before);
    }
    try (ImageStore images = ImageStore.onDisk(restored.resolve("images"))) {
      for (String hash : before.values()) {
        byte[] bytes = images.get(hash).orElseThrow(() -> new AssertionError("missing " + hash));
        assertThat(sha256(bytes)).isEqualTo(hash);
      }
    }
    try (Database reopened = Database.sqlite(restored.resolve("fluxbot.db"))) {
      assertThat(reopened.read(BackupRestoreTest::succeeded)).containsAllEntriesOf(before);
    }
  }

  /** A small backup of an empty bot in {@code bk}. */
  private Path smallBackup() throws Exception {
    try (Database db = Database.sqlite(dir.resolve("live/fluxbot.db"))) {
      assertThat(db.dialect()).isEqualTo(Database.Dialect.SQLITE);
    }
    Result backup = fluxbot("live", "backup", dir.resolve("bk").toString());
    assertThat(backup.exit()).as(backup.err()).isZero();
    return dir.resolve("bk");
  }

  @Test
  void aNonEmptyFolderIsRefusedUnlessForced() throws Exception {
    Path bk = smallBackup();
    Result again = fluxbot("live", "backup", bk.toString());
    assertThat(again.exit()).isEqualTo(2);
    assertThat(again.err()).contains("is not empty").contains("--force");
    assertThat(fluxbot("live", "backup", "--force", bk.toString()).exit()).isZero();
  }

  @Test
  void restoreIsRefusedWhileABotHoldsTheRunLock() throws Exception {
    Path bk = smallBackup();
    Files.createDirectories(dir.resolve("target"));
    try (RunLock held = RunLock.take(dir.resolve("target/fluxbot.db"))) {
      Result r = fluxbot("target", "restore", bk.toString());
      assertThat(r.exit()).isEqualTo(2);
      assertThat(r.err()).contains("another bot is running on the database");
    }
    assertThat(dir.resolve("target/fluxbot.db")).doesNotExist();
    assertThat(fluxbot("target", "restore", bk.toString()).exit()).isZero();
  }

  @Test
  void aTamperedFileFailsItsChecksum() throws Exception {
    Path bk = smallBackup();
    Path db = bk.resolve("fluxbot.db");
    byte[] bytes = Files.readAllBytes(db);
    bytes[bytes.length - 1] ^= 1;
    Files.write(db, bytes);
    Result r = fluxbot("target", "restore", bk.toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err())
        .contains("fluxbot.db: its checksum does not match the manifest")
        .doesNotContain("Exception");
    assertThat(dir.resolve("target/fluxbot.db")).doesNotExist();
  }

  @Test
  void aBackupFromANewerSchemaIsRefused() throws Exception {
    Path bk = smallBackup();
    try (Connection c = Backups.sqlite(bk.resolve("fluxbot.db"))) {
      UpgradeTest.insertFutureMigration(c, Database.Dialect.SQLITE);
    }
    Backups.writeManifest(bk, Map.of()); // checksums that match: only the schema is wrong
    Result r = fluxbot("target", "restore", bk.toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err())
        .contains("the backup's schema is newer than this fluxbot's")
        .contains("fluxbot 9.9.9")
        .contains("V99"); // UpgradeTest.insertFutureMigration
    assertThat(dir.resolve("target/fluxbot.db")).doesNotExist();
  }

  @Test
  void onPostgresqlItGivesTheExactPgDumpCommandWithoutThePasswordAndCopiesTheLocalImages()
      throws Exception {
    Files.createDirectories(dir.resolve("live/images/packs"));
    Files.write(dir.resolve("live/images/packs/0-0.pack"), new byte[] {1, 2, 3});
    Files.write(dir.resolve("live/images/packs/w0.lock"), new byte[0]);
    Result r =
        fluxbot(
            Map.of(
                "FLUXBOT_DATABASE_URL",
                "jdbc:postgresql://db.internal:5433/fluxbot?user=bot&password=hunter2"),
            "live",
            "backup",
            dir.resolve("pg").toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .contains(
            "pg_dump --format=custom --file="
                + dir.resolve("pg/fluxbot.pgdump")
                + " 'postgresql://bot@db.internal:5433/fluxbot'")
        .contains("PGPASSWORD")
        .contains("pg_restore")
        .contains("Copied 1 image file(s)")
        .doesNotContain("hunter2");
    assertThat(dir.resolve("pg/images/packs/0-0.pack")).exists();
    assertThat(dir.resolve("pg/images/packs/w0.lock")).doesNotExist();
    assertThat(Files.readString(dir.resolve("pg/manifest.json")))
        .contains("postgresql (not in this backup: pg_dump)")
        .contains("packs/0-0.pack");
  }
}
