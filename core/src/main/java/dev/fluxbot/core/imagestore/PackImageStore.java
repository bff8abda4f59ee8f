package dev.fluxbot.core.imagestore;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

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
 */
final class PackImageStore implements ImageStore, AutoCloseable {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(PackImageStore.class);

  static final int MAGIC = 0x46585031; // "FXP1"
  static final byte IMAGE = 1;
  static final byte TOMBSTONE = 2;
  static final int HEADER_BYTES = 72;

  /**
   * A pack is sealed once the next record would take it past this (a larger image gets a pack of
   * its own).
   */
  static final long DEFAULT_PACK_BYTES = 64L << 20;

  /** How long a sync round waits for more records before it forces the pack. */
  static final long GATHER_MILLIS = 50;

  /** How many images' names are remembered as checked (about 150 bytes each). */
  static final long CHECKED_ENTRIES = 100_000;

  private static final Pattern PACK_NAME = Pattern.compile("(\\d{1,9})-(\\d{1,18})\\.pack");
  private static final HexFormat HEX = HexFormat.of();

  private final Path dir;
  private final Path packsDir;
  private final long packBytes;
  private final DiskImageStore legacy;

  /**
   * Whether the folder held images in the old layout when the store opened; if not, puts skip
   * looking.
   */
  private final boolean legacyPresent;

  /** Hash → where its record(s) are; almost always one. */
  private final ConcurrentHashMap<String, Loc[]> index = new ConcurrentHashMap<>();

  /** Every pack seen, by file name. */
  private final ConcurrentHashMap<String, Pack> packs = new ConcurrentHashMap<>();

  /** Tombstones read before the record they delete (it is in a pack not scanned that far yet). */
  private final Set<String> deadAhead = ConcurrentHashMap.newKeySet();

  private final Object scanLock = new Object();

  /** Images this process wrote or has read back whole: a later read need not hash them again. */
  private final Cache<String, Boolean> whole =
      Caffeine.newBuilder().maximumSize(CHECKED_ENTRIES).build();

  private final ReentrantLock appendLock = new ReentrantLock();
  private FileChannel writerLockFile; // guarded by appendLock
  private volatile int writer = -1; // written under appendLock; -1 until the first append
  private long nextSeq; // guarded by appendLock
  private Pack active; // guarded by appendLock
  private volatile boolean closed; // written under appendLock
  private volatile boolean folderDirty;

  /** Counts the records' bytes this store appended, and forces them in rounds. */
  private final GroupCommit sync =
      new GroupCommit("image-store-sync", GATHER_MILLIS, this::syncActive);

  private final AtomicBoolean compacting = new AtomicBoolean();
  private final Object compactMonitor = new Object();
  private volatile boolean closing;

  public PackImageStore(Path dir) {
    this(dir, DEFAULT_PACK_BYTES);
  }

  PackImageStore(Path dir, long packBytes) {
    this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
    this.packsDir = this.dir.resolve("packs");
    if (packBytes < HEADER_BYTES) {
      throw new IllegalArgumentException(
          "packBytes: at least " + HEADER_BYTES + "; provided: " + packBytes);
    }
    this.packBytes = packBytes;
    this.legacy = new DiskImageStore(this.dir);
    this.legacyPresent = hasLegacyFolders(this.dir);
    rescan();
  }

  // --- the ImageStore operations ---

  @Override
  public String put(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    String hash = Hashes.sha256Hex(bytes);
    if (index.containsKey(hash) && (whole.getIfPresent(hash) != null || get(hash).isPresent())) {
      return hash; // stored already (a record not yet read in this process is checked first)
    }
    if (legacyPresent && legacy.contains(hash)) {
      return hash;
    }
    Loc loc = append(IMAGE, HEX.parseHex(hash), bytes, null);
    index.merge(hash, new Loc[] {loc}, PackImageStore::concat);
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
        bytes = loc.pack.read(loc.offset + HEADER_BYTES, loc.length);
      } catch (NoSuchFileException | ClosedChannelException e) {
        if (!loc.pack.own && !loc.pack.gone) {
          rescan(); // its writer compacted it away: its new place is in that writer's newer records
        }
        continue; // this store compacted it meanwhile: its new place is in the index
      } catch (IOException e) {
        throw new UncheckedIOException(
            "image store " + dir + ": cannot read " + hash + " from " + loc.pack.name + ": " + e,
            e);
      }
      if (bytes.length == loc.length && whole.getIfPresent(hash) != null) {
        return Optional.of(bytes);
      }
      if (bytes.length != loc.length || !Hashes.sha256Hex(bytes).equals(hash)) {
        log.warn(
            "image store {}: the record of {} in {} does not hold the image its name says ({} bytes; cut short"
                + " by a power loss?); dropping it",
            dir,
            hash,
            loc.pack.name,
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
    Loc[] locs = index.remove(hash);
    if (locs == null) {
      rescan(); // another store may have appended it since
      locs = index.remove(hash);
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
    if (index.containsKey(hash) || legacy.contains(hash)) {
      return true;
    }
    rescan();
    return index.containsKey(hash);
  }

  /** Waits until every record appended before this call is forced to disk. */
  public void flush() {
    sync.flush();
  }

  /** How many appended bytes are not yet forced to disk. */
  long pendingBytes() {
    return sync.pending();
  }

  /**
   * Waits for a compaction under way, forces what was appended, closes the packs and gives the
   * writer number back. Reads still work after it.
   */
  @Override
  public void close() {
    closing = true;
    Monitors.awaitUninterruptibly(compactMonitor, () -> !compacting.get());
    flush();
    appendLock.lock();
    try {
      closed = true;
      if (active != null) {
        seal(active);
        active = null;
      }
      if (writerLockFile != null) {
        closeQuietly(writerLockFile);
        writerLockFile = null;
      }
    } finally {
      appendLock.unlock();
    }
    packs.values().forEach(Pack::closeChannel);
  }

  @Override
  public String toString() {
    return "ImageStore[" + dir + ", packs]";
  }

  // --- appending ---

  /**
   * Appends one record to this store's current pack, starting a pack (and taking a writer number)
   * as needed.
   */
  private Loc append(byte kind, byte[] hash, byte[] payload, Loc target) {
    int length = payload == null ? 0 : payload.length;
    long size = HEADER_BYTES + (long) length;
    boolean interrupted =
        Thread.interrupted(); // an interrupt would close the shared channel under everyone
    appendLock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("image store " + dir + " is closed");
      }
      if (active == null || (active.end > 0 && active.end + size > packBytes)) {
        startPack();
      }
      Pack pack = active;
      long offset = pack.end;
      ByteBuffer header = header(kind, length, hash, target);
      try {
        if (payload != null) {
          writeFully(pack.writeChannel, ByteBuffer.wrap(payload), offset + HEADER_BYTES);
        }
        writeFully(pack.writeChannel, header, offset);
      } catch (IOException e) {
        // What was written of this record is now the pack's tail; no later record may follow it.
        seal(pack);
        active = null;
        throw new UncheckedIOException(
            "image store " + dir + ": cannot append to " + pack.name + ": " + e, e);
      }
      pack.end = offset + size;
      pack.scanned = pack.end;
      pack.recordBytes.addAndGet(size);
      if (kind == IMAGE) {
        pack.liveBytes.addAndGet(size);
      }
      sync.added(size); // after the write, so the round that counts it forces it
      return new Loc(pack, offset, length);
    } finally {
      appendLock.unlock();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Seals the current pack (if any) and starts the next one. Called with the append lock held. */
  private void startPack() {
    if (active != null) {
      seal(active);
      active = null;
    }
    try {
      if (writer < 0) {
        takeWriterNumber();
      }
      while (true) {
        String name = writer + "-" + nextSeq++ + ".pack";
        Path file = packsDir.resolve(name);
        FileChannel channel;
        try {
          channel =
              FileChannel.open(
                  file,
                  Set.of(
                      StandardOpenOption.CREATE_NEW,
                      StandardOpenOption.READ,
                      StandardOpenOption.WRITE),
                  DiskImageStore.OWNER_ONLY);
        } catch (java.nio.file.FileAlreadyExistsException e) {
          continue; // left by an earlier run of this writer number that we did not see listed
        }
        Pack pack = new Pack(name, file, writer);
        pack.writeChannel = channel;
        pack.channel = channel;
        pack.own = true;
        pack.sealed = false;
        packs.put(name, pack);
        active = pack;
        folderDirty = true;
        return;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "image store " + dir + ": cannot start a pack in " + packsDir + ": " + e, e);
    }
  }

  /** Locks the first free {@code w<n>.lock}; the number is this store's until it closes. */
  private void takeWriterNumber() throws IOException {
    Files.createDirectories(packsDir);
    for (int n = 0; ; n++) {
      FileChannel lockFile =
          FileChannel.open(
              packsDir.resolve("w" + n + ".lock"),
              Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
              DiskImageStore.OWNER_ONLY);
      FileLock lock;
      try {
        lock = lockFile.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // another store in this process holds it
      }
      if (lock == null) {
        lockFile.close();
        continue;
      }
      writerLockFile = lockFile;
      writer = n;
      long maxSeq = -1;
      for (Pack p : packs.values()) {
        if (p.writer == n) {
          maxSeq = Math.max(maxSeq, p.seq);
        }
      }
      nextSeq = maxSeq + 1;
      return;
    }
  }

  /** Forces a pack this store wrote and stops writing to it. Called with the append lock held. */
  private void seal(Pack pack) {
    try {
      pack.writeChannel.force(true);
    } catch (IOException e) {
      log.warn("image store {}: cannot force {} to disk: {}", dir, pack.name, e.toString());
    }
    pack.writeChannel = null;
    pack.sealed = true;
    maybeCompact(pack);
  }

  private static ByteBuffer header(byte kind, int length, byte[] hash, Loc target) {
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
    b.putInt(0, MAGIC);
    b.put(4, kind);
    b.putInt(8, length);
    if (target != null) {
      b.putLong(16, target.offset);
      b.putInt(56, target.pack.writer);
      b.putLong(60, target.pack.seq);
    }
    b.put(24, hash);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, 68);
    b.putInt(68, (int) crc.getValue());
    return b;
  }

  private static void writeFully(FileChannel channel, ByteBuffer buffer, long position)
      throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      at += channel.write(buffer, at);
    }
  }

  // --- the background sync ---

  /**
   * One round of the group commit: forces the current pack (a sealed one was forced when sealed),
   * and the folder after a new pack.
   */
  private void syncActive() {
    FileChannel channel;
    appendLock.lock();
    try {
      channel = active == null ? null : active.writeChannel;
    } finally {
      appendLock.unlock();
    }
    if (channel != null) {
      try {
        channel.force(false); // fdatasync: the bytes and the file's new length, not its times
      } catch (ClosedChannelException e) {
        // sealed meanwhile, which forced it
      } catch (IOException e) {
        log.warn("image store {}: cannot force a pack to disk: {}", dir, e.toString());
      }
    }
    if (folderDirty) {
      folderDirty = false;
      forceFolder(packsDir);
    }
  }

  private void forceFolder(Path folder) {
    try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      log.debug("image store {}: cannot force {}: {}", dir, folder, e.toString());
    }
  }

  // --- deleting and compacting ---

  /** Drops one record of {@code hash} (it failed its check) and keeps any others. */
  private void remove(String hash, Loc loc) {
    boolean[] removed = new boolean[1];
    index.computeIfPresent(
        hash,
        (k, locs) -> {
          Loc[] rest = without(locs, loc);
          removed[0] = rest != locs;
          return rest.length == 0 ? null : rest;
        });
    if (removed[0]) {
      dropped(hash, loc);
    }
  }

  /** A record left the index: count it dead and append its tombstone. */
  private void dropped(String hash, Loc loc) {
    loc.pack.liveBytes.addAndGet(-(HEADER_BYTES + (long) loc.length));
    try {
      append(TOMBSTONE, HEX.parseHex(hash), null, loc);
    } catch (RuntimeException e) {
      // Without its tombstone the record comes back after a restart: an unused image, not a lost
      // one.
      log.warn("image store {}: cannot record the deletion of {}: {}", dir, hash, e.toString());
    }
    maybeCompact(loc.pack);
  }

  private void maybeCompact(Pack pack) {
    if (pack.writer == writer
        && pack.sealed
        && !pack.gone
        && !closing
        && pack.liveBytes.get() * 2 <= pack.recordBytes.get()
        && compacting.compareAndSet(false, true)) {
      Thread.ofVirtual()
          .name("image-store-compact")
          .start(
              () -> {
                try {
                  compact(pack);
                } catch (RuntimeException e) {
                  log.warn("image store {}: cannot compact {}: {}", dir, pack.name, e.toString());
                } finally {
                  synchronized (compactMonitor) {
                    compacting.set(false);
                    compactMonitor.notifyAll();
                  }
                }
              });
    }
  }

  /**
   * Copies a sealed pack's live records (and the tombstones still needed) to the current pack,
   * forces that, then deletes the old pack. Runs on one background thread at a time.
   */
  void compact(Pack pack) {
    rescan(); // learn the other stores' tombstones first
    List<Record> records;
    try {
      records = pack.records(0, Long.MAX_VALUE).records;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "image store " + dir + ": cannot read " + pack.name + ": " + e, e);
    }
    for (Record r : records) {
      if (r.kind == TOMBSTONE) {
        Pack target = packs.get(r.targetPack);
        if (target != null && target != pack && !target.gone) {
          append(TOMBSTONE, HEX.parseHex(r.hash), null, new Loc(target, r.targetOffset, 0));
        }
        continue;
      }
      Loc old = new Loc(pack, r.offset, r.length);
      Loc[] now = index.get(r.hash);
      if (now == null || indexOf(now, old) < 0) {
        continue; // dead
      }
      byte[] bytes;
      try {
        bytes = pack.read(r.offset + HEADER_BYTES, r.length);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "image store " + dir + ": cannot read " + pack.name + ": " + e, e);
      }
      Loc moved = append(IMAGE, HEX.parseHex(r.hash), bytes, null);
      boolean[] swapped = new boolean[1];
      index.computeIfPresent(
          r.hash,
          (k, locs) -> {
            int i = indexOf(locs, old);
            if (i < 0) {
              return locs;
            }
            Loc[] copy = locs.clone();
            copy[i] = moved;
            swapped[0] = true;
            return copy;
          });
      if (!swapped[0]) { // deleted while it was copied
        moved.pack.liveBytes.addAndGet(-(HEADER_BYTES + (long) moved.length));
        append(TOMBSTONE, HEX.parseHex(r.hash), null, moved);
      }
    }
    flush(); // the copies are on disk before the originals go
    try {
      Files.deleteIfExists(pack.file);
    } catch (IOException e) {
      log.warn("image store {}: cannot delete the compacted {}: {}", dir, pack.name, e.toString());
      return;
    }
    forget(pack);
    forceFolder(packsDir);
    log.debug("image store {}: compacted {} ({} records)", dir, pack.name, records.size());
  }

  // --- reading the packs ---

  /** Reads every pack's records that this store has not seen yet: at open, and on a miss. */
  void rescan() {
    synchronized (scanLock) {
      List<Path> files = new ArrayList<>();
      try (DirectoryStream<Path> listing = Files.newDirectoryStream(packsDir, "*.pack")) {
        listing.forEach(files::add);
      } catch (NoSuchFileException e) {
        return;
      } catch (IOException e) {
        throw new UncheckedIOException(
            "image store " + dir + ": cannot list " + packsDir + ": " + e, e);
      }
      Set<String> listed = new java.util.HashSet<>();
      for (Path file : files) {
        String name = file.getFileName().toString();
        Matcher m = PACK_NAME.matcher(name);
        if (m.matches()) {
          listed.add(name);
          packs.computeIfAbsent(name, n -> new Pack(n, file, Integer.parseInt(m.group(1))));
        }
      }
      for (Pack pack : List.copyOf(packs.values())) {
        if (!pack.own && !listed.contains(pack.name)) {
          forget(pack); // compacted by its writer, which appended the live records again first
        }
      }
      List<Record> tombstones = new ArrayList<>();
      for (Pack pack : packs.values()) {
        if (pack.own || pack.gone) {
          continue; // this store indexes its own records as it appends them
        }
        Scan scan;
        try {
          scan = pack.records(pack.scanned, Long.MAX_VALUE);
        } catch (NoSuchFileException e) {
          forget(pack); // compacted by its writer, which appended the live records again first
          continue;
        } catch (IOException e) {
          log.warn("image store {}: cannot read {}: {}", dir, pack.name, e.toString());
          continue;
        }
        for (Record r : scan.records) {
          long size = HEADER_BYTES + (long) r.length;
          pack.recordBytes.addAndGet(size);
          if (r.kind == TOMBSTONE) {
            tombstones.add(r);
          } else if (!deadAhead.remove(pack.name + "@" + r.offset)) {
            pack.liveBytes.addAndGet(size);
            index.merge(
                r.hash, new Loc[] {new Loc(pack, r.offset, r.length)}, PackImageStore::concat);
          }
        }
        pack.scanned = scan.end;
      }
      for (Record t : tombstones) {
        Pack target = packs.get(t.targetPack);
        if (target == null) {
          continue; // its pack is gone, and the record with it
        }
        Loc loc = new Loc(target, t.targetOffset, 0);
        boolean[] removed = new boolean[1];
        index.computeIfPresent(
            t.hash,
            (k, locs) -> {
              int i = indexOf(locs, loc);
              if (i < 0) {
                return locs;
              }
              removed[0] = true;
              target.liveBytes.addAndGet(-(HEADER_BYTES + (long) locs[i].length));
              Loc[] rest = without(locs, locs[i]);
              return rest.length == 0 ? null : rest;
            });
        if (!removed[0] && t.targetOffset >= target.scanned) {
          deadAhead.add(t.targetPack + "@" + t.targetOffset);
        }
      }
    }
  }

  /**
   * A pack that no longer exists: its records leave the index (their copies are in newer records).
   */
  private void forget(Pack pack) {
    pack.gone = true;
    packs.remove(pack.name, pack);
    pack.closeChannel();
    for (Map.Entry<String, Loc[]> e : index.entrySet()) {
      for (Loc l : e.getValue()) {
        if (l.pack == pack) {
          index.computeIfPresent(
              e.getKey(),
              (k, locs) -> {
                Loc[] rest = locs;
                for (Loc x : locs) {
                  if (x.pack == pack) {
                    rest = without(rest, x);
                  }
                }
                return rest.length == 0 ? null : rest;
              });
          break;
        }
      }
    }
    deadAhead.removeIf(k -> k.startsWith(pack.name + "@"));
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

  // --- small parts ---

  /** Where one record is: its pack, its header's offset, its payload's length. */
  record Loc(Pack pack, long offset, int length) {
    boolean sameRecord(Loc other) {
      return pack == other.pack && offset == other.offset;
    }
  }

  private static int indexOf(Loc[] locs, Loc loc) {
    for (int i = 0; i < locs.length; i++) {
      if (locs[i].sameRecord(loc)) {
        return i;
      }
    }
    return -1;
  }

  private static Loc[] without(Loc[] locs, Loc loc) {
    int i = indexOf(locs, loc);
    if (i < 0) {
      return locs;
    }
    Loc[] rest = new Loc[locs.length - 1];
    System.arraycopy(locs, 0, rest, 0, i);
    System.arraycopy(locs, i + 1, rest, i, locs.length - i - 1);
    return rest;
  }

  private static Loc[] concat(Loc[] a, Loc[] b) {
    Loc[] both = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  /** One record's header as read back. */
  record Record(
      long offset, byte kind, int length, String hash, String targetPack, long targetOffset) {}

  record Scan(List<Record> records, long end) {}

  /** One pack file. */
  static final class Pack {
    final String name;
    final Path file;
    final int writer;
    final long seq;
    final AtomicLong recordBytes = new AtomicLong();
    final AtomicLong liveBytes = new AtomicLong();

    /**
     * Where reading stopped: the end of the last whole record seen. Guarded by the scan lock (own
     * packs: append lock).
     */
    long scanned;

    long end; // own packs: where the next record goes; guarded by the append lock
    boolean own; // written by this store
    volatile boolean sealed;
    volatile boolean gone;
    volatile FileChannel channel; // for reading; opened on first use
    FileChannel writeChannel; // own, unsealed packs; guarded by the append lock

    Pack(String name, Path file, int writer) {
      this.name = name;
      this.file = file;
      this.writer = writer;
      Matcher m = PACK_NAME.matcher(name);
      this.seq = m.matches() ? Long.parseLong(m.group(2)) : -1;
      this.sealed = true;
    }

    /** Reads {@code length} bytes at {@code position}; fewer where the pack ends first. */
    byte[] read(long position, int length) throws IOException {
      ByteBuffer buffer = ByteBuffer.allocate(length);
      boolean interrupted = Thread.interrupted(); // an interrupt would close the shared channel
      try {
        for (int tries = 0; ; tries++) {
          FileChannel ch = channel();
          try {
            while (buffer.hasRemaining()) {
              int n = ch.read(buffer, position + buffer.position());
              if (n < 0) {
                break;
              }
            }
            return buffer.position() == length
                ? buffer.array()
                : Arrays.copyOf(buffer.array(), buffer.position());
          } catch (ClosedChannelException e) {
            if (gone || tries >= 2) {
              throw e;
            }
            synchronized (this) {
              if (channel == ch) {
                channel = null; // closed under us (an interrupt elsewhere): open it again
              }
            }
            buffer.clear();
          }
        }
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    private FileChannel channel() throws IOException {
      FileChannel ch = channel;
      if (ch != null) {
        return ch;
      }
      synchronized (this) {
        if (gone) {
          throw new ClosedChannelException();
        }
        if (channel == null) {
          channel = FileChannel.open(file, StandardOpenOption.READ);
        }
        return channel;
      }
    }

    /**
     * Closes the reading channel (an own pack's is also its writing one: called once it is sealed).
     */
    synchronized void closeChannel() {
      if (channel != null) {
        closeQuietly(channel);
      }
      channel = null;
    }

    /** The records from {@code from} up to the first header that does not check out. */
    Scan records(long from, long limit) throws IOException {
      List<Record> out = new ArrayList<>();
      long size = Files.size(file);
      long at = from;
      ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES);
      CRC32C crc = new CRC32C();
      while (at + HEADER_BYTES <= size && out.size() < limit) {
        h.clear();
        byte[] got = read(at, HEADER_BYTES);
        if (got.length < HEADER_BYTES) {
          break;
        }
        h.put(0, got);
        crc.reset();
        crc.update(got, 0, 68);
        byte kind = h.get(4);
        int length = h.getInt(8);
        if (h.getInt(0) != MAGIC
            || h.getInt(68) != (int) crc.getValue()
            || length < 0
            || (kind != IMAGE && kind != TOMBSTONE)
            || at + HEADER_BYTES + (long) length > size) {
          break;
        }
        String hash = HEX.formatHex(got, 24, 56);
        String targetPack = kind == TOMBSTONE ? h.getInt(56) + "-" + h.getLong(60) + ".pack" : null;
        out.add(
            new Record(at, kind, length, hash, targetPack, kind == TOMBSTONE ? h.getLong(16) : -1));
        at += HEADER_BYTES + (long) length;
      }
      return new Scan(out, at);
    }
  }
}
