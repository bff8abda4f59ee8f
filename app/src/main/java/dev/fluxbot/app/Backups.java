package dev.fluxbot.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.store.SchemaVersions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.sqlite.SQLiteDataSource;

/**
 * What {@code fluxbot backup} and {@code fluxbot restore} do with files: the SQLite snapshot, the
 * image store's files, the manifest and its checks.
 *
 * <p>The snapshot is {@code VACUUM INTO}: SQLite writes the whole database as one read transaction
 * sees it, so it is consistent however many writers go on meanwhile (in WAL mode they neither wait
 * for it nor disturb it). sqlite-jdbc's {@code backup to} copies pages in steps and starts again
 * whenever another connection writes in between, so under a busy bot it may never finish.
 *
 * <p>The images are copied after the snapshot, so every image a job in the snapshot refers to was
 * stored before the copy began; the copy is then checked image by image against the snapshot's
 * jobs, and copied again where the store moved records meanwhile (a pack compacted into another).
 */
final class Backups {
  private Backups() {}

  static final String MANIFEST = "manifest.json";
  static final String DATABASE = "fluxbot.db";
  static final String IMAGES = "images";

  /** How many times the images are copied again while the store moves them under the copy. */
  static final int COPY_ROUNDS = 5;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** A backup that cannot be made or used: the message says why and what to do. */
  static final class BackupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BackupException(String message) {
      super(message);
    }

    BackupException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** What {@link #copyImages} copied, and the referenced images the store no longer has. */
  record ImageCopy(int files, int referenced, Set<String> goneFromStore) {}

  /**
   * Makes {@code dir} ready for a backup: created if missing; an existing one must be empty unless
   * {@code force}.
   */
  static void prepareTarget(Path dir, boolean force) {
    try {
      if (Files.exists(dir) && !Files.isDirectory(dir)) {
        throw new BackupException(dir + " is a file, not a folder; name a new or empty folder");
      }
      if (Files.isDirectory(dir) && !force) {
        try (Stream<Path> entries = Files.list(dir)) {
          if (entries.findAny().isPresent()) {
            throw new BackupException(
                dir
                    + " is not empty; name a new or empty folder, or add --force to write over"
                    + " what is there");
          }
        }
      }
      if (force && Files.isDirectory(dir)) {
        deleteTree(dir.resolve(IMAGES));
        Files.deleteIfExists(dir.resolve(DATABASE));
        Files.deleteIfExists(dir.resolve(MANIFEST));
      }
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new BackupException("cannot use " + dir + " for the backup: " + e, e);
    }
  }

  /**
   * Writes a consistent copy of the SQLite database {@code live} to {@code target} while others may
   * write to it.
   */
  static void snapshotSqlite(Path live, Path target) {
    if (!Files.isRegularFile(live)) {
      throw new BackupException(
          "no database at "
              + live.toAbsolutePath()
              + "; check storage.data_dir (or run the bot once to create it)");
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + live.toAbsolutePath());
        Statement st = c.createStatement()) {
      st.execute("PRAGMA busy_timeout = 30000");
      st.execute("VACUUM INTO '" + target.toAbsolutePath().toString().replace("'", "''") + "'");
    } catch (SQLException e) {
      throw new BackupException("cannot copy the database " + live + ": " + e.getMessage(), e);
    }
  }

  /** A plain JDBC connection to a SQLite file (no migration, no pool). */
  static Connection sqlite(Path file) throws SQLException {
    return DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
  }

  /** The schema's status of a SQLite file: what it has, what this fluxbot knows. */
  static SchemaVersions.Status schema(Path file) {
    SQLiteDataSource ds = new SQLiteDataSource();
    ds.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
    return SchemaVersions.status(ds);
  }

  /** Each job's image and references in the database {@code file}. */
  static Set<String> referencedImages(Path file) {
    Set<String> hashes = new TreeSet<>();
    try (Connection c = sqlite(file);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT image_hash, reference_hashes FROM jobs")) {
      while (rs.next()) {
        if (rs.getString(1) != null) {
          hashes.add(rs.getString(1));
        }
        String refs = rs.getString(2);
        if (refs != null && !refs.isBlank()) {
          JSON.readTree(refs).forEach(h -> hashes.add(h.asText()));
        }
      }
    } catch (SQLException | IOException e) {
      throw new BackupException("cannot read the jobs of " + file + ": " + e.getMessage(), e);
    }
    return hashes;
  }

  /** How many jobs {@code file} holds, in all and finished with an image. */
  static Map<String, Long> jobCounts(Path file) {
    Map<String, Long> counts = new java.util.LinkedHashMap<>();
    try (Connection c = sqlite(file);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT COUNT(*), SUM(CASE WHEN state = 'SUCCEEDED' THEN 1 ELSE 0 END) FROM jobs")) {
      rs.next();
      counts.put("jobs", rs.getLong(1));
      counts.put("succeeded_jobs", rs.getLong(2));
    } catch (SQLException e) {
      throw new BackupException("cannot count the jobs of " + file + ": " + e.getMessage(), e);
    }
    return counts;
  }

  /**
   * Copies the image store's files from {@code live} to {@code target} (not its lock files), and
   * again while an image of {@code referenced} that the live store has is missing from the copy.
   */
  static ImageCopy copyImages(Path live, Path target, Set<String> referenced) {
    Map<Path, Long> copied = new HashMap<>();
    Set<String> missing = new LinkedHashSet<>(referenced);
    for (int round = 1; round <= COPY_ROUNDS; round++) {
      copyChanged(live, target, copied);
      missing = absent(target, missing);
      if (missing.isEmpty()) {
        return new ImageCopy(copied.size(), referenced.size(), Set.of());
      }
      Set<String> stillThere = present(live, missing);
      if (stillThere.isEmpty()) { // the store removed them (its size limit): nothing to copy
        return new ImageCopy(copied.size(), referenced.size(), missing);
      }
      missing = stillThere;
    }
    throw new BackupException(
        missing.size()
            + " image(s) the database refers to kept moving in the image store while it was"
            + " copied (e.g. "
            + missing.iterator().next()
            + "); run the backup again");
  }

  /** Copies each file that is new or whose size changed since the last round. */
  private static void copyChanged(Path live, Path target, Map<Path, Long> copied) {
    if (!Files.isDirectory(live)) {
      return;
    }
    List<Path> files;
    try (Stream<Path> walk = Files.walk(live)) {
      files = walk.filter(Files::isRegularFile).filter(Backups::isImageFile).toList();
    } catch (IOException | UncheckedIOException e) {
      throw new BackupException("cannot list the image store " + live + ": " + e, e);
    }
    for (Path file : files) {
      Path rel = live.relativize(file);
      Path to = target.resolve(rel.toString());
      try {
        long size = Files.size(file);
        if (copied.containsKey(rel) && copied.get(rel) == size) {
          continue;
        }
        Files.createDirectories(to.getParent());
        Files.copy(file, to, StandardCopyOption.REPLACE_EXISTING);
        copied.put(rel, Files.size(to));
      } catch (NoSuchFileException e) {
        continue; // a pack compacted away meanwhile: its records are in a newer pack
      } catch (IOException e) {
        throw new BackupException("cannot copy " + file + " to " + to + ": " + e, e);
      }
    }
  }

  /** A store's image or pack, not its writers' locks or a write in progress. */
  private static boolean isImageFile(Path p) {
    String name = p.getFileName().toString();
    return !name.endsWith(".lock") && !name.startsWith(".tmp-") && !name.endsWith(".part");
  }

  private static Set<String> absent(Path images, Set<String> hashes) {
    Set<String> out = new LinkedHashSet<>();
    try (ImageStore store = ImageStore.onDisk(images)) {
      for (String h : hashes) {
        if (!store.contains(h)) {
          out.add(h);
        }
      }
    }
    return out;
  }

  private static Set<String> present(Path images, Set<String> hashes) {
    Set<String> out = new LinkedHashSet<>(hashes);
    out.removeAll(absent(images, hashes));
    return out;
  }

  /** Writes {@code manifest.json}: {@code facts}, and the size and SHA-256 of every file. */
  static void writeManifest(Path dir, Map<String, Object> facts) {
    ObjectNode m = JSON.createObjectNode();
    m.put("format", 1);
    m.put("fluxbot", SchemaVersions.fluxbotVersion());
    m.put("created_at", Instant.now().toString());
    facts.forEach((k, v) -> m.set(k, JSON.valueToTree(v)));
    ArrayNode files = m.putArray("files");
    for (Path f : files(dir)) {
      files
          .addObject()
          .put("path", dir.relativize(f).toString().replace('\\', '/'))
          .put("bytes", size(f))
          .put("sha256", sha256(f));
    }
    try {
      JSON.writeValue(dir.resolve(MANIFEST).toFile(), m);
    } catch (IOException e) {
      throw new BackupException("cannot write " + dir.resolve(MANIFEST) + ": " + e, e);
    }
  }

  /**
   * Reads {@code dir}'s manifest and checks every file it lists (size and SHA-256), and that no
   * file is missing from it.
   *
   * @throws BackupException naming the first file that does not match
   */
  static JsonNode verify(Path dir) {
    Path manifest = dir.resolve(MANIFEST);
    JsonNode m;
    try {
      m = JSON.readTree(manifest.toFile());
    } catch (IOException e) {
      throw new BackupException(
          manifest
              + ": cannot be read ("
              + e.getClass().getSimpleName()
              + "); is "
              + dir
              + " a folder fluxbot backup made?",
          e);
    }
    Set<String> listed = new TreeSet<>();
    for (JsonNode f : m.path("files")) {
      String rel = f.path("path").asText();
      Path file = dir.resolve(rel).normalize();
      if (!file.startsWith(dir.normalize()) || !Files.isRegularFile(file)) {
        throw new BackupException(
            dir + ": " + rel + " is listed in the manifest but missing; the backup is incomplete");
      }
      if (size(file) != f.path("bytes").asLong()
          || !sha256(file).equals(f.path("sha256").asText())) {
        throw new BackupException(
            file
                + ": its checksum does not match the manifest (the file was changed or damaged"
                + " after the backup); restore from another backup");
      }
      listed.add(rel);
    }
    if (!listed.contains(DATABASE)) {
      throw new BackupException(
          dir + ": the manifest lists no " + DATABASE + "; nothing to restore");
    }
    return m;
  }

  /**
   * {@code PRAGMA integrity_check} on a SQLite file.
   *
   * @throws BackupException with SQLite's first complaint
   */
  static void integrityCheck(Path file) {
    try (Connection c = sqlite(file);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
      String first = rs.next() ? rs.getString(1) : "no answer";
      if (!"ok".equals(first)) {
        throw new BackupException(
            file + ": PRAGMA integrity_check failed (" + first + "); restore from another backup");
      }
    } catch (SQLException e) {
      throw new BackupException(
          file + ": not a usable SQLite database (" + e.getMessage() + ")", e);
    }
  }

  /** The regular files under {@code dir} except the manifest, in a stable order. */
  static List<Path> files(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      return new ArrayList<>(
          walk.filter(Files::isRegularFile)
              .filter(p -> !p.equals(dir.resolve(MANIFEST)))
              .sorted()
              .toList());
    } catch (IOException e) {
      throw new BackupException("cannot list " + dir + ": " + e, e);
    }
  }

  static long size(Path f) {
    try {
      return Files.size(f);
    } catch (IOException e) {
      throw new BackupException("cannot read " + f + ": " + e, e);
    }
  }

  static String sha256(Path f) {
    try (InputStream in =
        new DigestInputStream(Files.newInputStream(f), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (IOException e) {
      throw new BackupException("cannot read " + f + ": " + e, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
