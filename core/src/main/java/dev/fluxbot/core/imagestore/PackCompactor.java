package dev.fluxbot.core.imagestore;

import static dev.fluxbot.core.imagestore.PackRecord.HEADER_BYTES;
import static dev.fluxbot.core.imagestore.PackRecord.TOMBSTONE;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Compacts a sealed pack of this store's writer whose records are at least half dead: its live
 * records are copied to the current pack, forced, and the old pack deleted. One at a time, on a
 * background thread.
 */
final class PackCompactor {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(PackImageStore.class); // logs as the store it serves

  private final Path dir;
  private final PackIndex index;
  private final PackWriter writer;
  private final AtomicBoolean compacting = new AtomicBoolean();
  private final Object compactMonitor = new Object();
  private volatile boolean closing;

  PackCompactor(Path dir, PackIndex index, PackWriter writer) {
    this.dir = dir;
    this.index = index;
    this.writer = writer;
  }

  /** Starts no more compactions and waits for one under way. */
  void stop() {
    closing = true;
    Monitors.awaitUninterruptibly(compactMonitor, () -> !compacting.get());
  }

  void maybeCompact(Pack pack) {
    if (pack.writer == writer.writer()
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
    index.rescan(); // learn the other stores' tombstones first
    List<PackRecord> records;
    try {
      records = pack.records(0, Long.MAX_VALUE).records();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "image store " + dir + ": cannot read " + pack.name + ": " + e, e);
    }
    for (PackRecord r : records) {
      if (r.kind() == TOMBSTONE) {
        Pack target = index.pack(r.targetPack());
        if (target != null && target != pack && !target.gone) {
          writer.appendTombstone(r.hash(), new Loc(target, r.targetOffset(), 0));
        }
      } else {
        copyIfLive(pack, r);
      }
    }
    writer.flush(); // the copies are on disk before the originals go
    try {
      Files.deleteIfExists(pack.file);
    } catch (IOException e) {
      log.warn("image store {}: cannot delete the compacted {}: {}", dir, pack.name, e.toString());
      return;
    }
    index.forget(pack);
    writer.forceFolder();
    log.debug("image store {}: compacted {} ({} records)", dir, pack.name, records.size());
  }

  /** Appends an image record again if the index still points at it, and points it at the copy. */
  private void copyIfLive(Pack pack, PackRecord r) {
    Loc old = new Loc(pack, r.offset(), r.length());
    Loc[] now = index.get(r.hash());
    if (now == null || Loc.indexOf(now, old) < 0) {
      return; // dead
    }
    byte[] bytes;
    try {
      bytes = pack.read(r.offset() + HEADER_BYTES, r.length());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "image store " + dir + ": cannot read " + pack.name + ": " + e, e);
    }
    Loc moved = writer.appendImage(r.hash(), bytes);
    if (!index.move(r.hash(), old, moved)) { // deleted while it was copied
      moved.pack().liveBytes.addAndGet(-moved.size());
      writer.appendTombstone(r.hash(), moved);
    }
  }
}
