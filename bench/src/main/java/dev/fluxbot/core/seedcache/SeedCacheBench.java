package dev.fluxbot.core.seedcache;

import dev.fluxbot.bench.Fixtures;
import dev.fluxbot.core.imagestore.Hashes;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.store.Database;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A seed-cache hit for a 1.5 MB image on SQLite: from the memory layer, and from disk (a second
 * cache on the same database and folder whose memory bound is 0, so every lookup reads the index
 * and the file; the file is in the OS page cache after the first read). The {@code contended} group
 * looks up from memory while two threads write to the same database, as a busy bot's jobs do. The
 * floors: copying the image (a hit hands out the caller's own copy) and one hit's index UPDATE in a
 * transaction of its own.
 *
 * <p>{@code hitWriter}: {@code direct} writes each hit to the index before the lookup returns (the
 * 4-argument constructor, which the app uses today); {@code async} hands hits to a virtual thread
 * that writes them in batches.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
public class SeedCacheBench {
  static final int IMAGE_BYTES = 1_500_000;
  static final String FINGERPRINT =
      Hashes.sha256Hex("a fox --seed 7".getBytes(StandardCharsets.UTF_8));

  /** A database and image folder holding one 1.5 MB entry. */
  abstract static class Stored {
    Path dir;
    Database database;
    ImageStore store;
    byte[] image;
    String imageHash;

    void open(String name) {
      dir = Fixtures.tempDir(name);
      database = Fixtures.open("sqlite", dir);
      Fixtures.createFloorTable(database);
      store = ImageStore.onDisk(dir.resolve("images"));
      image = new byte[IMAGE_BYTES];
      new SplittableRandom(7).nextBytes(image);
      imageHash =
          new SeedCache(database, store, SeedCache.Settings.defaults(), InstantSource.system())
              .put(FINGERPRINT, null, ImageType.PNG, 1024, 1024, image)
              .imageHash();
    }

    void close() {
      database.close();
      Fixtures.deleteTree(dir);
    }
  }

  /** Two caches on the stored entry: one that keeps it in memory, one with no memory at all. */
  @State(Scope.Benchmark)
  public static class Caches extends Stored {
    @Param({"direct", "async"})
    public String hitWriter;

    private ExecutorService writer;
    SeedCache memory;
    SeedCache disk;

    @Setup(Level.Trial)
    public void open() {
      open("cache");
      writer = Executors.newVirtualThreadPerTaskExecutor();
      memory = cache(SeedCache.Settings.defaults());
      disk = cache(new SeedCache.Settings(0, 10L << 30));
      check(memory.lookup(FINGERPRINT), false); // read from disk once, then kept in memory
      check(memory.lookup(FINGERPRINT), true);
      check(disk.lookup(FINGERPRINT), false);
    }

    private SeedCache cache(SeedCache.Settings settings) {
      return switch (hitWriter) {
        case "direct" -> new SeedCache(database, store, settings, InstantSource.system());
        case "async" -> new SeedCache(database, store, settings, InstantSource.system(), writer);
        default ->
            throw new IllegalArgumentException(
                "hitWriter must be direct or async; got \"" + hitWriter + "\"");
      };
    }

    private static void check(Optional<SeedCache.CachedImage> hit, boolean fromMemory) {
      if (hit.isEmpty()
          || hit.get().fromMemory() != fromMemory
          || hit.get().bytes().length != IMAGE_BYTES) {
        throw new IllegalStateException(
            "expected a hit " + (fromMemory ? "from memory" : "from disk") + "; got " + hit);
      }
    }

    @TearDown(Level.Trial)
    public void shut() {
      writer.close();
      close();
    }
  }

  /** The floors' own copy of the entry. */
  @State(Scope.Benchmark)
  public static class Floor extends Stored {
    SeedIndex index;

    @Setup(Level.Trial)
    public void open() {
      open("cache-floor");
      index = new SeedIndex(database.dialect());
    }

    @TearDown(Level.Trial)
    public void shut() {
      close();
    }
  }

  @Benchmark
  public Optional<SeedCache.CachedImage> hitFromMemory(Caches caches) {
    return caches.memory.lookup(FINGERPRINT);
  }

  @Benchmark
  public Optional<SeedCache.CachedImage> hitFromDisk(Caches caches) {
    return caches.disk.lookup(FINGERPRINT);
  }

  @Benchmark
  @Group("contended")
  @GroupThreads(1)
  public Optional<SeedCache.CachedImage> hitFromMemoryWhileWriting(Caches caches) {
    return caches.memory.lookup(FINGERPRINT);
  }

  /** The other jobs: single-row write transactions, back to back. */
  @Benchmark
  @Group("contended")
  @GroupThreads(2)
  public void writeRows(Caches caches) {
    Fixtures.insertOneRow(caches.database);
  }

  /** Floor of a memory hit: the copy of the bytes that every hit hands out. */
  @Benchmark
  public byte[] copyImage(Floor floor) {
    return floor.image.clone();
  }

  /**
   * What a direct hit writes: the row's {@code last_hit_at} and {@code hits}, one write
   * transaction.
   */
  @Benchmark
  public List<HitRecorder.Hit> recordHitRow(Floor floor) {
    HitRecorder.Hit hit =
        new HitRecorder.Hit(FINGERPRINT, floor.imageHash, System.currentTimeMillis(), 1);
    return floor.database.transaction(c -> floor.index.recordHits(c, List.of(hit)));
  }
}
