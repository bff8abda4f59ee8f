package dev.fluxbot.core.imagestore;

import static dev.fluxbot.core.imagestore.PackRecord.PACK_NAME;
import static dev.fluxbot.core.imagestore.PackRecord.TOMBSTONE;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;

/**
 * Where every image's records are, in memory: this store's as it appends them, the other stores'
 * read from their packs' headers by {@link #rescan}, which also applies their tombstones.
 */
final class PackIndex {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(PackImageStore.class); // logs as the store it serves

  private final Path dir;
  private final Path packsDir;

  /** Hash → where its record(s) are; almost always one. */
  private final ConcurrentHashMap<String, Loc[]> index = new ConcurrentHashMap<>();

  /** Every pack seen, by file name. */
  private final ConcurrentHashMap<String, Pack> packs = new ConcurrentHashMap<>();

  /** Tombstones read before the record they delete (it is in a pack not scanned that far yet). */
  private final Set<String> deadAhead = ConcurrentHashMap.newKeySet();

  private final Object scanLock = new Object();

  PackIndex(Path dir, Path packsDir) {
    this.dir = dir;
    this.packsDir = packsDir;
  }

  // --- the index ---

  Loc[] get(String hash) {
    return index.get(hash);
  }

  boolean contains(String hash) {
    return index.containsKey(hash);
  }

  void add(String hash, Loc loc) {
    index.merge(hash, new Loc[] {loc}, Loc::concat);
  }

  /** Takes every record of {@code hash} out of the index; null where there were none. */
  Loc[] removeAll(String hash) {
    return index.remove(hash);
  }

  /** Takes one record of {@code hash} out of the index; whether it was in it. */
  boolean remove(String hash, Loc loc) {
    boolean[] removed = new boolean[1];
    index.computeIfPresent(
        hash,
        (k, locs) -> {
          Loc[] rest = Loc.without(locs, loc);
          removed[0] = rest != locs;
          return rest.length == 0 ? null : rest;
        });
    return removed[0];
  }

  /** Points the record {@code old} of {@code hash} at {@code moved}; false if it was deleted. */
  boolean move(String hash, Loc old, Loc moved) {
    boolean[] swapped = new boolean[1];
    index.computeIfPresent(
        hash,
        (k, locs) -> {
          int i = Loc.indexOf(locs, old);
          if (i < 0) {
            return locs;
          }
          Loc[] copy = locs.clone();
          copy[i] = moved;
          swapped[0] = true;
          return copy;
        });
    return swapped[0];
  }

  // --- the packs ---

  Pack pack(String name) {
    return packs.get(name);
  }

  void register(Pack pack) {
    packs.put(pack.name, pack);
  }

  /** The highest sequence number of a known pack of {@code writer}; -1 if none. */
  long lastSeq(int writer) {
    long maxSeq = -1;
    for (Pack p : packs.values()) {
      if (p.writer == writer) {
        maxSeq = Math.max(maxSeq, p.seq);
      }
    }
    return maxSeq;
  }

  void closeChannels() {
    packs.values().forEach(Pack::closeChannel);
  }

  // --- reading the packs ---

  /** Reads every pack's records that this store has not seen yet: at open, and on a miss. */
  void rescan() {
    synchronized (scanLock) {
      Optional<Set<String>> listed = listPacks();
      if (listed.isEmpty()) {
        return;
      }
      for (Pack pack : List.copyOf(packs.values())) {
        if (!pack.own && !listed.get().contains(pack.name)) {
          forget(pack); // compacted by its writer, which appended the live records again first
        }
      }
      List<PackRecord> tombstones = new ArrayList<>();
      for (Pack pack : packs.values()) {
        if (pack.own || pack.gone) {
          continue; // this store indexes its own records as it appends them
        }
        scan(pack, tombstones);
      }
      for (PackRecord t : tombstones) {
        applyTombstone(t);
      }
    }
  }

  /** The packs in the folder by name, each known from now on; empty if there is no folder. */
  private Optional<Set<String>> listPacks() {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> listing = Files.newDirectoryStream(packsDir, "*.pack")) {
      listing.forEach(files::add);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "image store " + dir + ": cannot list " + packsDir + ": " + e, e);
    }
    Set<String> listed = new HashSet<>();
    for (Path file : files) {
      String name = file.getFileName().toString();
      Matcher m = PACK_NAME.matcher(name);
      if (m.matches()) {
        listed.add(name);
        packs.computeIfAbsent(name, n -> new Pack(n, file, Integer.parseInt(m.group(1))));
      }
    }
    return Optional.of(listed);
  }

  /** Indexes a pack's records past where reading stopped; adds its tombstones to the list. */
  private void scan(Pack pack, List<PackRecord> tombstones) {
    Pack.Scan scan;
    try {
      scan = pack.records(pack.scanned, Long.MAX_VALUE);
    } catch (NoSuchFileException e) {
      forget(pack); // compacted by its writer, which appended the live records again first
      return;
    } catch (IOException e) {
      log.warn("image store {}: cannot read {}: {}", dir, pack.name, e.toString());
      return;
    }
    for (PackRecord r : scan.records()) {
      long size = PackRecord.HEADER_BYTES + (long) r.length();
      pack.recordBytes.addAndGet(size);
      if (r.kind() == TOMBSTONE) {
        tombstones.add(r);
      } else if (!deadAhead.remove(pack.name + "@" + r.offset())) {
        pack.liveBytes.addAndGet(size);
        add(r.hash(), new Loc(pack, r.offset(), r.length()));
      }
    }
    pack.scanned = scan.end();
  }

  /** Removes the record a tombstone names, or remembers it if that record is not read yet. */
  private void applyTombstone(PackRecord t) {
    Pack target = packs.get(t.targetPack());
    if (target == null) {
      return; // its pack is gone, and the record with it
    }
    Loc loc = new Loc(target, t.targetOffset(), 0);
    boolean[] removed = new boolean[1];
    index.computeIfPresent(
        t.hash(),
        (k, locs) -> {
          int i = Loc.indexOf(locs, loc);
          if (i < 0) {
            return locs;
          }
          removed[0] = true;
          target.liveBytes.addAndGet(-locs[i].size());
          Loc[] rest = Loc.without(locs, locs[i]);
          return rest.length == 0 ? null : rest;
        });
    if (!removed[0] && t.targetOffset() >= target.scanned) {
      deadAhead.add(t.targetPack() + "@" + t.targetOffset());
    }
  }

  /**
   * A pack that no longer exists: its records leave the index (their copies are in newer records).
   */
  void forget(Pack pack) {
    pack.gone = true;
    packs.remove(pack.name, pack);
    pack.closeChannel();
    for (Map.Entry<String, Loc[]> e : index.entrySet()) {
      for (Loc l : e.getValue()) {
        if (l.pack() == pack) {
          index.computeIfPresent(
              e.getKey(),
              (k, locs) -> {
                Loc[] rest = locs;
                for (Loc x : locs) {
                  if (x.pack() == pack) {
                    rest = Loc.without(rest, x);
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
}
