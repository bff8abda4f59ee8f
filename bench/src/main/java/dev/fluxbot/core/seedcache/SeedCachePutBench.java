package dev.fluxbot.core.seedcache;

import dev.fluxbot.bench.Fixtures;
import dev.fluxbot.core.imagestore.Hashes;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.store.Database;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * What storing a job's image in the seed cache costs as the index grows: a put of a new entry (for
 * an image already in the store) into an index of {@code rows} entries, on SQLite. 30,000 rows is a
 * full 10 GiB default budget of ~350 KB images.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
public class SeedCachePutBench {
  @Param({"0", "30000"})
  public int rows;

  private final AtomicLong names = new AtomicLong();
  private Path dir;
  private Database database;
  private SeedCache cache;
  private byte[] image;

  @Setup(Level.Trial)
  public void open() {
    dir = Fixtures.tempDir("cache-put");
    database = Fixtures.open("sqlite", dir);
    SeedIndex index = new SeedIndex(database.dialect());
    long start = System.currentTimeMillis() - rows;
    database.transaction(
        c -> {
          for (int i = 0;
              i < rows;
              i++) { // one a millisecond, as if made over time: ties are rare in real use
            index.upsert(
                c,
                new SeedIndex.Entry(
                    fingerprint(),
                    fingerprint(),
                    ImageType.JPEG,
                    1024,
                    1024,
                    350_000,
                    null,
                    start + i,
                    start + i,
                    0));
          }
          return null;
        });
    cache =
        new SeedCache(
            database,
            ImageStore.onDisk(dir.resolve("images")),
            SeedCache.Settings.defaults(),
            InstantSource.system());
    image = new byte[Fixtures.IMAGE_BYTES];
    new SplittableRandom(42).nextBytes(image);
  }

  private String fingerprint() {
    return Hashes.sha256Hex(
        ("request " + names.incrementAndGet()).getBytes(StandardCharsets.UTF_8));
  }

  @TearDown(Level.Trial)
  public void close() {
    database.close();
    Fixtures.deleteTree(dir);
  }

  @Benchmark
  public SeedCache.CachedImage put() {
    return cache.put(fingerprint(), null, ImageType.JPEG, 1024, 1024, image);
  }
}
