package dev.fluxbot.core.imagestore;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * {@link ImageStore#onDisk}: images appended to pack files ({@code dir/packs/<writer>-<seq>.pack}),
 * found through an index in memory that is rebuilt from the packs' record headers when the store
 * opens. Images stored before packs existed ({@code dir/ab/cdef…}, {@link DiskImageStore}) are
 * still read, and deleted, where they are.
 *
 * <p>Why packs: a file per image cost every new image a file creation and a rename on the job's
 * thread, and one forced write per file; together most of what the pipeline added to a job with a
 * new image (docs/benchmarks.md §4d). An append to an open file is one positional write, and one
 * forced write per round covers every image of the round.
 *
 * <p>A record is a 72-byte header (magic, kind, payload length, the SHA-256, for a tombstone the
 * record it deletes, and a CRC32C of the header) and, for an image, its bytes. The payload is
 * written before its header, so a header that checks out is never followed by bytes still being
 * written. A pack is read from its start up to its first header that does not check out; a store
 * never appends to a pack it did not create, so a pack cut short by a crash only loses its tail.
 *
 * <p>Durability is shared, as {@link DiskImageStore}'s was: {@code put} returns once the record is
 * written, and one background thread forces the pack every {@link #GATHER_MILLIS} while there is
 * something new (group commit). A power cut can lose the last moments' images, never corrupt one
 * unseen: the first read in a process of an image it did not write checks the bytes against their
 * name, and an image that fails is dropped (with a tombstone) and reads as missing.
 *
 * <p>Several stores may share the folder (several bot instances, or the CLI beside the bot): each
 * takes its own writer number by locking {@code dir/packs/w<n>.lock}, writes only its own packs,
 * and reads everyone's. A miss rescans the packs for what the others appended since. A delete
 * appends a tombstone naming the record it deletes, so the record stays deleted after a restart and
 * for the other stores once they rescan. A sealed pack of this store's writer whose records are at
 * least half dead is compacted: its live records are copied to the current pack, forced, and the
 * old pack deleted.
 *
 * <p>The parts: {@link PackRecord} (the format), {@link Pack} (one file), {@link PackIndex} (the
 * index and its rescans), {@link PackWriter} (appends and the sync), {@link PackCompactor}.
 */
final class PackImageStore implements ImageStore, AutoCloseable {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(PackImageStore.class);

  static final int HEADER_BYTES = PackRecord.HEADER_BYTES;

  /**
   * A pack is sealed once the next record would take it past this (a larger image gets a pack of
   * its own).
   */
  static final long DEFAULT_PACK_BYTES = 64L << 20;

  /** How long a sync round waits for more records before it forces the pack. */
  static final long GATHER_MILLIS = 50;

  /** How many images' names are remembered as checked (about 150 bytes each). */
  static final long CHECKED_ENTRIES = 100_000;

  private final Path dir;
  private final DiskImageStore legacy;

  /**
   * Whether the folder held images in the old layout when the store opened; if not, puts skip
   * looking.
   */
  private final boolean legacyPresent;

  /** Images this process wrote or has read back whole: a later read need not hash them again. */
  private final Cache<String, Boolean> whole =
      Caffeine.newBuilder().maximumSize(CHECKED_ENTRIES).build();

  private final PackIndex index;
  private final PackWriter writer;
  private final PackCompactor compactor;

  public PackImageStore(Path dir) {
    this(dir, DEFAULT_PACK_BYTES);
  }

  PackImageStore(Path dir, long packBytes) {
    this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
    Path packsDir = this.dir.resolve("packs");
    if (packBytes < HEADER_BYTES) {
      throw new IllegalArgumentException(
          "packBytes: at least " + HEADER_BYTES + "; provided: " + packBytes);
    }
    this.index = new PackIndex(this.dir, packsDir);
    // this::sealed, not compactor::maybeCompact: the compactor is made after the writer it uses.
    this.writer = new PackWriter(this.dir, packsDir, packBytes, index, this::sealed);
    this.compactor = new PackCompactor(this.dir, index, writer);
    this.legacy = new DiskImageStore(this.dir);
    this.legacyPresent = hasLegacyFolders(this.dir);
    rescan();
  }

  // --- the ImageStore operations ---

  @Override
  public String put(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    String hash = Hashes.sha256Hex(bytes);
    if (index.contains(hash) && (whole.getIfPresent(hash) != null || get(hash).isPresent())) {
      return hash; // stored already (a record not yet read in this process is checked first)
    }
    if (legacyPresent && legacy.contains(hash)) {
      return hash;
    }
    index.add(hash, writer.appendImage(hash, bytes));
    whole.put(hash, Boolean.TRUE);
    return hash;
  }

  @Override
  public Optional<byte[]> get(String hash) {
    Hashes.requireSha256Hex("image hash", hash);
    boolean rescanned = false;
    for (int attempt = 0; attempt < 4; attempt++) {
      Loc[] locs = index.get(hash);
      if (locs == null) {
        Optional<byte[]> old = legacy.get(hash);
        if (old.isPresent() || rescanned) {
          return old;
        }
        rescan(); // another store may have appended it since
        rescanned = true;
        continue;
      }
      Loc loc = locs[0];
      byte[] bytes;
      try {
        bytes = loc.pack().read(loc.offset() + HEADER_BYTES, loc.length());
      } catch (NoSuchFileException | ClosedChannelException e) {
        if (!loc.pack().own && !loc.pack().gone) {
          rescan(); // its writer compacted it away: its new place is in that writer's newer records
        }
        continue; // this store compacted it meanwhile: its new place is in the index
      } catch (IOException e) {
        throw new UncheckedIOException(
            "image store " + dir + ": cannot read " + hash + " from " + loc.pack().name + ": " + e,
            e);
      }
      if (bytes.length == loc.length() && whole.getIfPresent(hash) != null) {
        return Optional.of(bytes);
      }
      if (bytes.length != loc.length() || !Hashes.sha256Hex(bytes).equals(hash)) {
        log.warn(
            "image store {}: the record of {} in {} does not hold the image its name says ({} bytes; cut short"
                + " by a power loss?); dropping it",
            dir,
            hash,
            loc.pack().name,
            bytes.length);
        remove(hash, loc);
        continue;
      }
      whole.put(hash, Boolean.TRUE);
      return Optional.of(bytes);
    }
    return Optional.empty();
  }

  @Override
  public boolean delete(String hash) {
    boolean old = legacy.delete(hash); // checks the hash
    whole.invalidate(hash);
    Loc[] locs = index.removeAll(hash);
    if (locs == null) {
      rescan(); // another store may have appended it since
      locs = index.removeAll(hash);
      if (locs == null) {
        return old;
      }
    }
    for (Loc loc : locs) {
      dropped(hash, loc);
    }
    return true;
  }

  @Override
  public boolean contains(String hash) {
    Hashes.requireSha256Hex("image hash", hash);
    if (index.contains(hash) || legacy.contains(hash)) {
      return true;
    }
    rescan();
    return index.contains(hash);
  }

  /** Waits until every record appended before this call is forced to disk. */
  public void flush() {
    writer.flush();
  }

  /** How many appended bytes are not yet forced to disk. */
  long pendingBytes() {
    return writer.pending();
  }

  /**
   * Waits for a compaction under way, forces what was appended, closes the packs and gives the
   * writer number back. Reads still work after it.
   */
  @Override
  public void close() {
    compactor.stop();
    writer.close();
    index.closeChannels();
  }

  @Override
  public String toString() {
    return "ImageStore[" + dir + ", packs]";
  }

  // --- deleting ---

  /** Drops one record of {@code hash} (it failed its check) and keeps any others. */
  private void remove(String hash, Loc loc) {
    if (index.remove(hash, loc)) {
      dropped(hash, loc);
    }
  }

  /** A record left the index: count it dead and append its tombstone. */
  private void dropped(String hash, Loc loc) {
    loc.pack().liveBytes.addAndGet(-loc.size());
    try {
      writer.appendTombstone(hash, loc);
    } catch (RuntimeException e) {
      // Without its tombstone the record comes back after a restart: an unused image, not a lost
      // one.
      log.warn("image store {}: cannot record the deletion of {}: {}", dir, hash, e.toString());
    }
    compactor.maybeCompact(loc.pack());
  }

  /** Reads every pack's records that this store has not seen yet: at open, and on a miss. */
  void rescan() {
    index.rescan();
  }

  private void sealed(Pack pack) {
    compactor.maybeCompact(pack);
  }

  private static boolean hasLegacyFolders(Path dir) {
    try (DirectoryStream<Path> listing =
        Files.newDirectoryStream(
            dir, p -> p.getFileName().toString().matches("[0-9a-f]{2}") && Files.isDirectory(p))) {
      return listing.iterator().hasNext();
    } catch (IOException e) {
      return false;
    }
  }
}
