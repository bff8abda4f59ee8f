package dev.fluxbot.core;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.fluxbot.core.cache.CanonicalHash;
import dev.fluxbot.core.cache.Hashes;
import dev.fluxbot.core.cache.SeedIndex;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Identical requests are free and instant: the image a request produced, found again by the
 * request's {@link #fingerprint}. Three layers: a Caffeine map bounded in bytes, the
 * {@code seed_cache} index in the database, and the content-addressed {@link ImageStore}. It
 * survives restarts (the index and the files do) and keeps the index's total size within
 * {@link Settings#maxDiskBytes()}, evicting the least recently hit entries.
 *
 * <p>Previews are not cached, but that is the caller's rule ({@link ModelSpec#preview()}). The
 * memory layer does its upkeep on the calling threads (it has no threads of its own). Every hit,
 * from memory too, is written to the index at once, so that eviction order and other instances
 * sharing the database see it. Every method but {@link #fingerprint} may block on the database
 * or the disk, and fails with {@link Database.StoreException} or {@link java.io.UncheckedIOException}.
 */
public final class SeedCache {
  private static final Logger log = LoggerFactory.getLogger(SeedCache.class);
  private static final String FINGERPRINT_VERSION = "fluxbot/seed-cache/v1";

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
  public record CachedImage(String fingerprint, String imageHash, ImageType type, int width, int height, byte[] bytes,
      boolean fromMemory) {
    public CachedImage {
      Objects.requireNonNull(fingerprint, "fingerprint");
      Objects.requireNonNull(imageHash, "imageHash");
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(bytes, "bytes");
      if (width <= 0 || height <= 0) {
        throw new IllegalArgumentException("width and height must be positive: " + width + "x" + height);
      }
    }

    CachedImage copy(boolean servedFromMemory) {
      return new CachedImage(fingerprint, imageHash, type, width, height, bytes.clone(), servedFromMemory);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof CachedImage c && fingerprint.equals(c.fingerprint) && imageHash.equals(c.imageHash)
          && type == c.type && width == c.width && height == c.height && Arrays.equals(bytes, c.bytes)
          && fromMemory == c.fromMemory;
    }

    @Override
    public int hashCode() {
      return Objects.hash(fingerprint, imageHash, fromMemory);
    }

    @Override
    public String toString() {
      return "CachedImage[" + fingerprint + ", " + type + " " + width + "x" + height + ", " + bytes.length
          + " bytes, image " + imageHash + (fromMemory ? ", from memory]" : "]");
    }
  }

  /**
   * @param entries rows in the index
   * @param diskBytes the index's total {@code size_bytes} (what the disk budget counts)
   * @param hits lookups answered by this instance since it was made
   * @param misses lookups this instance could not answer
   */
  public record Stats(long entries, long diskBytes, long memoryEntries, long memoryBytes, long hits, long misses) {}

  private final Database db;
  private final ImageStore store;
  private final Settings settings;
  private final InstantSource clock;
  private final SeedIndex index;
  private final Cache<String, CachedImage> memory;
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();

  public SeedCache(Database db, ImageStore store, Settings settings, InstantSource clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.store = Objects.requireNonNull(store, "store");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.index = new SeedIndex(db.dialect());
    this.memory = Caffeine.newBuilder()
        .maximumWeight(settings.maxMemoryBytes())
        .weigher((String fingerprint, CachedImage image) -> image.bytes().length)
        .executor(Runnable::run)
        .build();
  }

  /**
   * The cache key of a request whose seed and size are set: SHA-256 over a length-prefixed
   * encoding of the model (id and endpoint), prompt, width, height, seed, steps, guidance, safety
   * tolerance, output format and the references' content hashes in order. Stable across runs.
   *
   * @param referenceHashes the SHA-256 of each reference image ({@link ReferenceImage#sha256()}), in order
   */
  public static String fingerprint(GenerationRequest request, List<String> referenceHashes) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(referenceHashes, "referenceHashes");
    if (request.seed() == null) {
      throw new IllegalArgumentException("fingerprint: the request needs its seed first; got seed null");
    }
    if (request.size() == null) {
      throw new IllegalArgumentException("fingerprint: the request needs its size first; got size null");
    }
    if (referenceHashes.size() != request.referenceCount()) {
      throw new IllegalArgumentException("fingerprint: need one hash per reference; the request has "
          + request.referenceCount() + ", got " + referenceHashes.size());
    }
    CanonicalHash h = new CanonicalHash().text(FINGERPRINT_VERSION)
        .text(request.model().id()).text(request.model().endpoint()).text(request.prompt())
        .int32(request.size().width()).int32(request.size().height()).int64(request.seed())
        .optionalInt64(request.steps() == null ? null : request.steps().longValue())
        .optionalFloat64(request.guidance()).int32(request.safetyTolerance()).text(request.format().apiName())
        .int32(referenceHashes.size());
    for (String hash : referenceHashes) {
      h.text(Hashes.requireSha256Hex("reference hash", hash));
    }
    return h.sha256Hex();
  }

  /**
   * The image stored for {@code fingerprint}: from memory if it is there, else from the index and
   * the disk (and then kept in memory). A hit moves the entry's {@code last_hit_at} and counts in
   * {@code hits}. An index row whose file is gone is dropped, and the lookup is a miss.
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
    if (!recordHit(fingerprint, held.imageHash())) {
      memory.invalidate(fingerprint); // evicted or replaced, perhaps by another instance
      return Optional.empty();
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
      log.warn("seed cache: image {} of entry {} is missing from the store; dropping the entry", e.imageHash(),
          fingerprint);
      db.read(c -> index.delete(c, fingerprint, e.imageHash()));
      return Optional.empty();
    }
    if (!recordHit(fingerprint, e.imageHash())) {
      return Optional.empty();
    }
    CachedImage image = new CachedImage(fingerprint, e.imageHash(), e.type(), e.width(), e.height(), bytes.get(), true);
    memory.put(fingerprint, image);
    return Optional.of(image.copy(false));
  }

  private boolean recordHit(String fingerprint, String imageHash) {
    return db.read(c -> index.recordHit(c, fingerprint, imageHash, clock.millis()));
  }

  /**
   * Stores the image a request produced under its fingerprint (replacing any earlier one), keeps
   * it in memory, then evicts least recently hit entries while the index is over the disk budget.
   * A file is deleted only when no other entry and no job refers to it.
   *
   * @param jobId the job that made the image, or null
   */
  public CachedImage put(String fingerprint, String jobId, ImageType type, int width, int height, byte[] bytes) {
    Hashes.requireSha256Hex("fingerprint", fingerprint);
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(bytes, "bytes");
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("width and height must be positive: " + width + "x" + height);
    }
    byte[] own = bytes.clone();
    String hash = store.put(own);
    long now = clock.millis();
    index(new SeedIndex.Entry(fingerprint, hash, type, width, height, own.length, jobId, now, now, 0), own);
    memory.put(fingerprint, new CachedImage(fingerprint, hash, type, width, height, own, true));
    evictOverBudget(fingerprint);
    return new CachedImage(fingerprint, hash, type, width, height, own.clone(), false);
  }

  private void index(SeedIndex.Entry entry, byte[] bytes) {
    db.transaction(c -> {
      index.lockForWrite(c);
      Optional<String> replaced = index.upsert(c, entry);
      if (!store.contains(entry.imageHash())) {
        store.put(bytes); // an evictor deleted the file between our write and our lock
      }
      if (replaced.isPresent() && !replaced.get().equals(entry.imageHash())) {
        deleteIfUnused(c, replaced.get());
      }
      return null;
    });
  }

  private void evictOverBudget(String justPut) {
    List<String> evicted = db.transaction(c -> {
      index.lockForEviction(c);
      List<SeedIndex.Entry> victims = index.overBudget(c, settings.maxDiskBytes(), justPut);
      Set<String> images = new LinkedHashSet<>();
      for (SeedIndex.Entry v : victims) {
        index.delete(c, v.fingerprint(), v.imageHash());
        images.add(v.imageHash());
      }
      for (String image : images) {
        deleteIfUnused(c, image);
      }
      return victims.stream().map(SeedIndex.Entry::fingerprint).toList();
    });
    if (!evicted.isEmpty()) {
      memory.invalidateAll(evicted);
      log.debug("seed cache: evicted {} entries to stay within {} bytes", evicted.size(), settings.maxDiskBytes());
    }
  }

  private void deleteIfUnused(Connection c, String imageHash) throws SQLException {
    if (index.isReferenced(c, imageHash)) {
      return;
    }
    try {
      store.delete(imageHash);
    } catch (UncheckedIOException e) {
      log.warn("seed cache: cannot delete unused image {}: {}", imageHash, e.getMessage());
    }
  }

  /** Reads the index's totals; the memory figures are after pending upkeep. */
  public Stats stats() {
    SeedIndex.Totals totals = db.read(index::totals);
    memory.cleanUp();
    long memoryBytes = memory.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
    return new Stats(totals.entries(), totals.bytes(), memory.estimatedSize(), memoryBytes, hits.sum(), misses.sum());
  }

  @Override
  public String toString() {
    return "SeedCache[" + db + ", " + store + ", " + settings + "]";
  }
}
