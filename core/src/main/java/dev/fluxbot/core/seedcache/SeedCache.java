package dev.fluxbot.core.seedcache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.fluxbot.core.imagestore.Hashes;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelSpec;
import dev.fluxbot.core.model.ReferenceImage;
import dev.fluxbot.core.store.Database;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Identical requests are free and instant: the image a request produced, found again by the
 * request's {@link #fingerprint}. Three layers: a Caffeine map bounded in bytes, the {@code
 * seed_cache} index in the database, and the content-addressed {@link ImageStore}. It survives
 * restarts (the index and the files do) and keeps the index's total size within {@link
 * Settings#maxDiskBytes()}, evicting the least recently hit entries.
 *
 * <p>Previews are not cached, but that is the caller's rule ({@link ModelSpec#preview()}). The
 * memory layer does its upkeep on the calling threads (it has no threads of its own). Every hit,
 * from memory too, is written to the index (its {@code last_hit_at} orders eviction) by a {@link
 * HitRecorder}: in batches on the {@code hitWriter} executor, so a hit from memory touches no
 * database; with {@code Runnable::run} before {@link #lookup} returns. An entry that another
 * instance evicted or replaced is dropped from memory when a hit's write finds its row changed.
 *
 * <p>The disk budget is checked without summing the index on every put: a {@link DiskTotal} keeps
 * the index's total, and the evictor runs when it passes the budget. It reads its victims in {@code
 * last_hit_at} order and stops when it has enough, so a full cache's puts stay cheap. With one
 * instance the total never passes the budget; several sharing a database each sum the index again
 * every {@value #RECOUNT_MILLIS} ms, so it may pass it by what the others stored meanwhile.
 *
 * <p>Every method but {@link #fingerprint} may block on the database or the disk, and fails with
 * {@link Database.StoreException} or {@link java.io.UncheckedIOException}.
 */
public final class SeedCache {
  private static final Logger log = LoggerFactory.getLogger(SeedCache.class);
  private static final String FINGERPRINT_VERSION = "fluxbot/seed-cache/v1";
  private static final long RECOUNT_MILLIS = 10_000;

  /**
   * @param maxMemoryBytes the in-memory layer's bound: the sum of its images' sizes
   * @param maxDiskBytes the index's bound: the sum of its rows' {@code size_bytes}
   */
  public record Settings(long maxMemoryBytes, long maxDiskBytes) {
    public Settings {
      if (maxMemoryBytes < 0) {
        throw new IllegalArgumentException("maxMemoryBytes must be >= 0; got " + maxMemoryBytes);
      }
      if (maxDiskBytes < 0) {
        throw new IllegalArgumentException("maxDiskBytes must be >= 0; got " + maxDiskBytes);
      }
    }

    /** 256 MiB in memory, 10 GiB on disk. */
    public static Settings defaults() {
      return new Settings(256L << 20, 10L << 30);
    }
  }

  /**
   * A cached image. {@code bytes} is the caller's own copy.
   *
   * @param fromMemory served by the in-memory layer (false: read from disk, or just stored)
   */
  public record CachedImage(
      String fingerprint,
      String imageHash,
      ImageType type,
      int width,
      int height,
      byte[] bytes,
      boolean fromMemory) {
    public CachedImage {
      Objects.requireNonNull(fingerprint, "fingerprint");
      Objects.requireNonNull(imageHash, "imageHash");
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(bytes, "bytes");
      if (width <= 0 || height <= 0) {
        throw new IllegalArgumentException(
            "width and height must be positive: " + width + "x" + height);
      }
    }

    CachedImage copy(boolean servedFromMemory) {
      return new CachedImage(
          fingerprint, imageHash, type, width, height, bytes.clone(), servedFromMemory);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof CachedImage c
          && fingerprint.equals(c.fingerprint)
          && imageHash.equals(c.imageHash)
          && type == c.type
          && width == c.width
          && height == c.height
          && Arrays.equals(bytes, c.bytes)
          && fromMemory == c.fromMemory;
    }

    @Override
    public int hashCode() {
      return Objects.hash(fingerprint, imageHash, fromMemory);
    }

    @Override
    public String toString() {
      return "CachedImage["
          + fingerprint
          + ", "
          + type
          + " "
          + width
          + "x"
          + height
          + ", "
          + bytes.length
          + " bytes, image "
          + imageHash
          + (fromMemory ? ", from memory]" : "]");
    }
  }

  /**
   * @param entries rows in the index
   * @param diskBytes the index's total {@code size_bytes} (what the disk budget counts)
   * @param hits lookups answered by this instance since it was made
   * @param misses lookups this instance could not answer
   */
  public record Stats(
      long entries, long diskBytes, long memoryEntries, long memoryBytes, long hits, long misses) {}

  private final Database db;
  private final ImageStore store;
  private final Settings settings;
  private final InstantSource clock;
  private final SeedIndex index;
  private final Cache<String, CachedImage> memory;
  private final HitRecorder hitLog;
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final DiskTotal diskTotal;

  /** Writes each hit to the index before {@link #lookup} returns; see the other constructor. */
  public SeedCache(Database db, ImageStore store, Settings settings, InstantSource clock) {
    this(db, store, settings, clock, Runnable::run);
  }

  /**
   * @param hitWriter runs the batched writes of hits to the index, off the caller's thread (e.g. a
   *     virtual-thread-per-task executor); {@code Runnable::run} writes each hit as it happens
   */
  public SeedCache(
      Database db, ImageStore store, Settings settings, InstantSource clock, Executor hitWriter) {
    this.db = Objects.requireNonNull(db, "db");
    this.store = Objects.requireNonNull(store, "store");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.index = new SeedIndex(db.dialect());
    this.memory =
        Caffeine.newBuilder()
            .maximumWeight(settings.maxMemoryBytes())
            .weigher((String fingerprint, CachedImage image) -> image.bytes().length)
            .executor(Runnable::run)
            .build();
    this.hitLog = new HitRecorder(db, index, hitWriter, this::forget);
    this.diskTotal = new DiskTotal(clock, RECOUNT_MILLIS);
  }

  /** Drops the memory entry of a row that is gone or now holds another image. */
  private void forget(String fingerprint, String imageHash) {
    memory
        .asMap()
        .computeIfPresent(
            fingerprint, (k, held) -> held.imageHash().equals(imageHash) ? null : held);
  }

  /**
   * The cache key of a request whose seed and size are set: SHA-256 over a length-prefixed encoding
   * of the model (id and endpoint), prompt, width, height, seed, steps, guidance, safety tolerance,
   * output format and the references' content hashes in order. Stable across runs.
   *
   * @param referenceHashes the SHA-256 of each reference image ({@link ReferenceImage#sha256()}),
   *     in order
   */
  public static String fingerprint(GenerationRequest request, List<String> referenceHashes) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(referenceHashes, "referenceHashes");
    if (request.seed() == null) {
      throw new IllegalArgumentException(
          "fingerprint: the request needs its seed first; got seed null");
    }
    if (request.size() == null) {
      throw new IllegalArgumentException(
          "fingerprint: the request needs its size first; got size null");
    }
    if (referenceHashes.size() != request.referenceCount()) {
      throw new IllegalArgumentException(
          "fingerprint: need one hash per reference; the request has "
              + request.referenceCount()
              + ", got "
              + referenceHashes.size());
    }
    CanonicalHash h =
        new CanonicalHash()
            .text(FINGERPRINT_VERSION)
            .text(request.model().id())
            .text(request.model().endpoint())
            .text(request.prompt())
            .int32(request.size().width())
            .int32(request.size().height())
            .int64(request.seed())
            .optionalInt64(request.steps() == null ? null : request.steps().longValue())
            .optionalFloat64(request.guidance())
            .int32(request.safetyTolerance())
            .text(request.format().apiName())
            .int32(referenceHashes.size());
    for (String hash : referenceHashes) {
      h.text(Hashes.requireSha256Hex("reference hash", hash));
    }
    return h.sha256Hex();
  }

  /**
   * The image stored for {@code fingerprint}: from memory if it is there, else from the index and
   * the disk (and then kept in memory). A hit moves the entry's {@code last_hit_at} (through the
   * hit writer) and counts in {@code hits}. An index row whose image the store says is gone is
   * dropped, and the lookup is a miss; a store that cannot say (S3 that does not answer) throws,
   * and the row stays: an instance that cannot read an image never drops it for the others.
   */
  public Optional<CachedImage> lookup(String fingerprint) {
    Hashes.requireSha256Hex("fingerprint", fingerprint);
    Optional<CachedImage> found = fromMemory(fingerprint).or(() -> fromDisk(fingerprint));
    (found.isPresent() ? hits : misses).increment();
    return found;
  }

  private Optional<CachedImage> fromMemory(String fingerprint) {
    CachedImage held = memory.getIfPresent(fingerprint);
    if (held == null) {
      return Optional.empty();
    }
    hitLog.record(fingerprint, held.imageHash(), clock.millis());
    if (memory.getIfPresent(fingerprint) != held) {
      return Optional
          .empty(); // a hit's write found its row evicted or replaced, perhaps by another instance
    }
    return Optional.of(held.copy(true));
  }

  private Optional<CachedImage> fromDisk(String fingerprint) {
    Optional<SeedIndex.Entry> row = db.read(c -> index.find(c, fingerprint));
    if (row.isEmpty()) {
      return Optional.empty();
    }
    SeedIndex.Entry e = row.get();
    Optional<byte[]> bytes = store.get(e.imageHash());
    if (bytes.isEmpty()) {
      log.warn(
          "seed cache: image {} of entry {} is missing from the store; dropping the entry",
          e.imageHash(),
          fingerprint);
      diskTotal.change(
          () -> db.read(c -> index.delete(c, fingerprint, e.imageHash())) ? -e.sizeBytes() : 0);
      return Optional.empty();
    }
    CachedImage image =
        new CachedImage(
            fingerprint, e.imageHash(), e.type(), e.width(), e.height(), bytes.get(), true);
    memory.put(fingerprint, image);
    hitLog.record(fingerprint, e.imageHash(), clock.millis());
    return Optional.of(image.copy(false));
  }

  /**
   * Stores the image a request produced under its fingerprint (replacing any earlier one), keeps it
   * in memory, then, when the index may be over the disk budget, evicts least recently hit entries
   * until it is not. A file is deleted only when no other entry and no job refers to it.
   *
   * @param jobId the job that made the image, or null
   */
  public CachedImage put(
      String fingerprint, String jobId, ImageType type, int width, int height, byte[] bytes) {
    CachedImage held = insert(fingerprint, jobId, type, width, height, bytes, null);
    return held.copy(false);
  }

  /**
   * Like {@link #put(String, String, ImageType, int, int, byte[])} for an image the caller has just
   * stored: with its hash (from {@link ImageStore#put}) the bytes are not hashed again, and nothing
   * is returned, so they are copied once (for the memory layer), not twice.
   *
   * @param storedHash the image's hash in the store
   */
  public void putStored(
      String fingerprint,
      String jobId,
      ImageType type,
      int width,
      int height,
      byte[] bytes,
      String storedHash) {
    Hashes.requireSha256Hex("storedHash", storedHash);
    insert(fingerprint, jobId, type, width, height, bytes, storedHash);
  }

  /**
   * Stores and indexes the entry; returns what the memory layer holds (never the caller's to keep).
   */
  private CachedImage insert(
      String fingerprint,
      String jobId,
      ImageType type,
      int width,
      int height,
      byte[] bytes,
      String storedHash) {
    Hashes.requireSha256Hex("fingerprint", fingerprint);
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(bytes, "bytes");
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException(
          "width and height must be positive: " + width + "x" + height);
    }
    byte[] own = bytes.clone();
    String hash = storedHash != null && store.contains(storedHash) ? storedHash : store.put(own);
    long now = clock.millis();
    SeedIndex.Entry entry =
        new SeedIndex.Entry(fingerprint, hash, type, width, height, own.length, jobId, now, now, 0);
    CachedImage held = new CachedImage(fingerprint, hash, type, width, height, own, true);
    if (db.inTransaction()) {
      // Joined to the caller's transaction (the job's last one): the row commits with it, and the
      // running total, the memory entry and any eviction follow the commit. No lock of the total is
      // taken while the transaction holds the database, so an evictor (total first, then database)
      // cannot deadlock with it; a recount between that commit and the addition below counts this
      // entry twice until the next recount, which can only make an eviction come early.
      long grew = index(entry, own);
      db.afterCommit(
          () -> {
            diskTotal.change(() -> grew);
            remember(held);
          });
    } else {
      diskTotal.change(() -> index(entry, own));
      remember(held);
    }
    return held;
  }

  /** Keeps a stored entry in memory, then evicts if the index may be over its disk budget. */
  private void remember(CachedImage held) {
    memory.put(held.fingerprint(), held);
    if (diskTotal.mayExceed(settings.maxDiskBytes())) {
      evictOverBudget(held.fingerprint());
    }
  }

  /** Writes the row; returns how many bytes the index grew by. */
  private long index(SeedIndex.Entry entry, byte[] bytes) {
    return db.transaction(
        c -> {
          index.lockForWrite(c);
          Optional<SeedIndex.Entry> replaced = index.upsert(c, entry);
          if (!store.contains(entry.imageHash())) {
            store.put(bytes); // an evictor deleted the file between our write and our lock
          }
          if (replaced.isPresent() && !replaced.get().imageHash().equals(entry.imageHash())) {
            deleteIfUnused(c, replaced.get().imageHash());
          }
          return entry.sizeBytes() - replaced.map(SeedIndex.Entry::sizeBytes).orElse(0L);
        });
  }

  /** Evicts down to the budget, after writing the hits that wait (they order the victims). */
  private void evictOverBudget(String justPut) {
    List<HitRecorder.Hit> waiting = hitLog.drain();
    Eviction done =
        diskTotal.recount(known -> db.transaction(c -> evict(c, known, waiting, justPut)));
    done.gone().forEach(h -> forget(h.fingerprint(), h.imageHash()));
    if (!done.evicted().isEmpty()) {
      memory.invalidateAll(done.evicted());
      log.debug(
          "seed cache: evicted {} entries to stay within {} bytes",
          done.evicted().size(),
          settings.maxDiskBytes());
    }
  }

  private Eviction evict(
      Connection c, OptionalLong known, List<HitRecorder.Hit> waiting, String justPut)
      throws SQLException {
    index.lockForEviction(c);
    List<HitRecorder.Hit> gone = hitLog.write(c, waiting);
    long total = known.isPresent() ? known.getAsLong() : index.totals(c).bytes();
    List<SeedIndex.Entry> victims = index.overBudget(c, total - settings.maxDiskBytes(), justPut);
    Set<String> images = new LinkedHashSet<>();
    for (SeedIndex.Entry v : victims) {
      if (index.delete(c, v.fingerprint(), v.imageHash())) {
        total -= v.sizeBytes();
      }
      images.add(v.imageHash());
    }
    for (String image : images) {
      deleteIfUnused(c, image);
    }
    return new Eviction(
        victims.stream().map(SeedIndex.Entry::fingerprint).toList(), gone, total, known.isEmpty());
  }

  private record Eviction(
      List<String> evicted, List<HitRecorder.Hit> gone, long bytesAfter, boolean summed)
      implements DiskTotal.Counted {}

  private void deleteIfUnused(Connection c, String imageHash) throws SQLException {
    if (index.isNeeded(c, imageHash)) {
      return;
    }
    try {
      store.delete(imageHash);
    } catch (UncheckedIOException e) {
      log.warn("seed cache: cannot delete unused image {}: {}", imageHash, e.getMessage());
    }
  }

  /** Lookups this instance answered since it was made; no I/O (for the metrics). */
  public long hits() {
    return hits.sum();
  }

  /** Lookups this instance could not answer since it was made; no I/O (for the metrics). */
  public long misses() {
    return misses.sum();
  }

  /** Reads the index's totals; the memory figures are after pending upkeep. */
  public Stats stats() {
    SeedIndex.Totals totals = db.read(index::totals);
    memory.cleanUp();
    long memoryBytes = memory.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
    return new Stats(
        totals.entries(),
        totals.bytes(),
        memory.estimatedSize(),
        memoryBytes,
        hits.sum(),
        misses.sum());
  }

  @Override
  public String toString() {
    return "SeedCache[" + db + ", " + store + ", " + settings + "]";
  }
}
