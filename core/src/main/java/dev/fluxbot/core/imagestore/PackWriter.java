package dev.fluxbot.core.imagestore;

import static dev.fluxbot.core.imagestore.PackRecord.HEADER_BYTES;
import static dev.fluxbot.core.imagestore.PackRecord.HEX;
import static dev.fluxbot.core.imagestore.PackRecord.IMAGE;
import static dev.fluxbot.core.imagestore.PackRecord.TOMBSTONE;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A store's appends: its writer number (a lock on {@code packs/w<n>.lock}), its current pack, and
 * the group commit that forces what it appended. A sealed pack goes to {@code onSeal}.
 */
final class PackWriter {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(PackImageStore.class); // logs as the store it serves

  private final Path dir;
  private final Path packsDir;
  private final long packBytes;
  private final PackIndex index;
  private final Consumer<Pack> onSeal;

  private final ReentrantLock appendLock = new ReentrantLock();
  private FileChannel writerLockFile; // guarded by appendLock
  private volatile int writer = -1; // written under appendLock; -1 until the first append
  private long nextSeq; // guarded by appendLock
  private Pack active; // guarded by appendLock
  private volatile boolean closed; // written under appendLock
  private volatile boolean folderDirty;

  /** Counts the records' bytes this store appended, and forces them in rounds. */
  private final GroupCommit sync =
      new GroupCommit("image-store-sync", PackImageStore.GATHER_MILLIS, this::syncActive);

  PackWriter(Path dir, Path packsDir, long packBytes, PackIndex index, Consumer<Pack> onSeal) {
    this.dir = dir;
    this.packsDir = packsDir;
    this.packBytes = packBytes;
    this.index = index;
    this.onSeal = onSeal;
  }

  /** This store's writer number; -1 until its first append. */
  int writer() {
    return writer;
  }

  Loc appendImage(String hash, byte[] bytes) {
    return append(IMAGE, HEX.parseHex(hash), bytes, null);
  }

  Loc appendTombstone(String hash, Loc target) {
    return append(TOMBSTONE, HEX.parseHex(hash), null, target);
  }

  /** Waits until every record appended before this call is forced to disk. */
  void flush() {
    sync.flush();
  }

  /** How many appended bytes are not yet forced to disk. */
  long pending() {
    return sync.pending();
  }

  /** Forces what was appended, seals the current pack and gives the writer number back. */
  void close() {
    flush();
    appendLock.lock();
    try {
      closed = true;
      if (active != null) {
        seal(active);
        active = null;
      }
      if (writerLockFile != null) {
        Pack.closeQuietly(writerLockFile);
        writerLockFile = null;
      }
    } finally {
      appendLock.unlock();
    }
  }

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
      ByteBuffer header = PackRecord.header(kind, length, hash, target);
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
        String name = PackRecord.packName(writer, nextSeq++);
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
        } catch (FileAlreadyExistsException e) {
          continue; // left by an earlier run of this writer number that we did not see listed
        }
        Pack pack = new Pack(name, file, writer);
        pack.writeChannel = channel;
        pack.channel = channel;
        pack.own = true;
        pack.sealed = false;
        index.register(pack);
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
      nextSeq = index.lastSeq(n) + 1;
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
    onSeal.accept(pack);
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
      forceFolder();
    }
  }

  /** Forces the packs folder, so that a new or deleted pack's name lasts. */
  void forceFolder() {
    try (FileChannel channel = FileChannel.open(packsDir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      log.debug("image store {}: cannot force {}: {}", dir, packsDir, e.toString());
    }
  }
}
