package dev.fluxbot.core.imagestore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A file per image, {@code dir/ab/cdef…}, the first two hex digits of the SHA-256 as the folder:
 * the store's layout before {@link PackImageStore}, which still reads and deletes images here. A
 * write goes to a new temporary file in that folder ({@code .tmp-…}, never a valid hash, so never
 * read as an image; owner-only, opened with one call), then is renamed over the final name in one
 * step: a reader, or this process after a crash, sees the whole image or none.
 *
 * <p>Durability is shared, like SQLite's in WAL mode with {@code synchronous=NORMAL} (the setting
 * the database uses): {@code put} returns once the file has its name, and one background thread
 * forces every new file and its folder to disk, as many as have come in during its last {@link
 * #GATHER_MILLIS} (group commit). A power cut can therefore lose the last moments' images, never
 * corrupt one unseen: the first read in a process of a file it did not write checks the bytes
 * against their name (the SHA-256; files this process wrote or already checked are remembered, up
 * to {@link #CHECKED_ENTRIES}), a file that fails is dropped and reads as missing, and a {@code
 * put} over a file of the wrong length writes it again. {@link #flush} waits until everything
 * written so far is on disk. (A forced write per image, on the job's own thread, was most of the
 * pipeline's added latency: docs/benchmarks.md.)
 */
final class DiskImageStore implements ImageStore {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(DiskImageStore.class);

  static final String TEMP_PREFIX = ".tmp-";

  /**
   * How long a sync round waits for more images before it forces them. Each round makes the file
   * system commit its journal, and new files wait for that; back-to-back rounds made image writes
   * slower (docs/benchmarks.md). An image is on disk within about this long plus the forced writes.
   */
  static final long GATHER_MILLIS = 50;

  /** How many images' names are remembered as checked (about 150 bytes each). */
  static final long CHECKED_ENTRIES = 100_000;

  /** A seam for tests: runs between writing the temporary file and moving it into place. */
  @FunctionalInterface
  interface BeforeMove {
    void run(Path temp) throws IOException;
  }

  private static final Set<StandardOpenOption> NEW_FILE =
      EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);

  /**
   * Read and write for the owner only, where the file system has POSIX permissions (also used by
   * {@link PackImageStore}).
   */
  static final FileAttribute<?>[] OWNER_ONLY =
      FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
          ? new FileAttribute<?>[] {
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
          }
          : new FileAttribute<?>[0];

  private final Path dir;
  private final BeforeMove beforeMove;

  /**
   * Temporary names: a random prefix per store and a counter, so no two writers (nor leftovers)
   * meet.
   */
  private final String tempPrefix = Long.toHexString(ThreadLocalRandom.current().nextLong()) + "-";

  private final AtomicLong tempIds = new AtomicLong();
  private final java.util.concurrent.ConcurrentLinkedQueue<Path> unsynced =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final GroupCommit sync =
      new GroupCommit("image-store-sync", GATHER_MILLIS, this::syncWaiting);

  /** Images this process wrote or has read back whole: a later read need not hash them again. */
  private final com.github.benmanes.caffeine.cache.Cache<String, Boolean> whole =
      com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(CHECKED_ENTRIES).build();

  public DiskImageStore(Path dir) {
    this(dir, temp -> {});
  }

  DiskImageStore(Path dir, BeforeMove beforeMove) {
    this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
    this.beforeMove = beforeMove;
  }

  @Override
  public String put(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    String hash = Hashes.sha256Hex(bytes);
    Path target = pathOf(hash);
    if (sizeOf(target) != bytes.length) { // absent, or cut short by a power loss before its sync
      write(target, bytes);
      whole.put(hash, Boolean.TRUE);
    }
    return hash;
  }

  private static long sizeOf(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return -1;
    }
  }

  /** Waits until every image written before this call is forced to disk. */
  public void flush() {
    sync.flush();
  }

  /** How many written images are not yet forced to disk. */
  long pending() {
    return sync.pending();
  }

  private void syncLater(Path file) {
    unsynced.add(file);
    sync.added(1);
  }

  /** One round of the group commit: forces every waiting file, then their folders (the renames). */
  private void syncWaiting() {
    java.util.Set<Path> folders = new java.util.LinkedHashSet<>();
    for (Path file = unsynced.poll(); file != null; file = unsynced.poll()) {
      force(file);
      folders.add(file.getParent());
    }
    folders.forEach(DiskImageStore::force);
  }

  private static void force(Path path) {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (NoSuchFileException e) {
      // deleted (evicted) before its turn: nothing to keep
    } catch (IOException e) {
      log.warn("image store: cannot force {} to disk: {}", path, e.toString());
    }
  }

  private void write(Path target, byte[] bytes) {
    Path temp = null;
    try {
      temp =
          target.resolveSibling(
              TEMP_PREFIX
                  + target.getFileName()
                  + "."
                  + tempPrefix
                  + tempIds.incrementAndGet()
                  + ".part");
      try (FileChannel out = createNew(temp)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          out.write(buffer);
        }
      }
      beforeMove.run(temp);
      move(temp, target);
      syncLater(target);
    } catch (IOException e) {
      deleteQuietly(temp);
      throw new UncheckedIOException(
          "image store " + dir + ": cannot write " + target.getFileName() + ": " + e, e);
    }
  }

  /**
   * Opens a new file for writing, readable by its owner only (as {@code createTempFile} makes it),
   * in one system call where the folder exists; the folder is made on the first write into it.
   */
  private static FileChannel createNew(Path file) throws IOException {
    try {
      return FileChannel.open(file, NEW_FILE, OWNER_ONLY);
    } catch (NoSuchFileException e) {
      Files.createDirectories(file.getParent());
      return FileChannel.open(file, NEW_FILE, OWNER_ONLY);
    }
  }

  private static void move(Path temp, Path target) throws IOException {
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(
          temp,
          target,
          StandardCopyOption.REPLACE_EXISTING); // same folder: a rename on any sane disk
    }
  }

  private static void deleteQuietly(Path temp) {
    if (temp == null) {
      return;
    }
    try {
      Files.deleteIfExists(temp);
    } catch (IOException ignored) {
      // a leftover .tmp- file is never read as an image
    }
  }

  /**
   * The bytes, checked against their name; a file that fails the check is dropped and reads as
   * missing.
   */
  @Override
  public Optional<byte[]> get(String hash) {
    Path file = pathOf(hash);
    try {
      byte[] bytes = Files.readAllBytes(file);
      if (whole.getIfPresent(hash) != null) {
        return Optional.of(bytes);
      }
      if (!Hashes.sha256Hex(bytes).equals(hash)) {
        log.warn(
            "image store {}: {} does not hold the image its name says ({} bytes; cut short by a power loss?);"
                + " dropping it",
            dir,
            hash,
            bytes.length);
        Files.deleteIfExists(file);
        return Optional.empty();
      }
      whole.put(hash, Boolean.TRUE);
      return Optional.of(bytes);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("image store " + dir + ": cannot read " + hash + ": " + e, e);
    }
  }

  @Override
  public boolean delete(String hash) {
    Path file = pathOf(hash);
    whole.invalidate(hash);
    try {
      return Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "image store " + dir + ": cannot delete " + hash + ": " + e, e);
    }
  }

  @Override
  public boolean contains(String hash) {
    return Files.isRegularFile(pathOf(hash));
  }

  /** Where {@code hash} lives; the check keeps any other string from naming a path at all. */
  Path pathOf(String hash) {
    Hashes.requireSha256Hex("image hash", hash);
    return dir.resolve(hash.substring(0, 2)).resolve(hash.substring(2));
  }

  @Override
  public String toString() {
    return "ImageStore[" + dir + "]";
  }
}
