package dev.fluxbot.core.seedcache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.imagestore.Hashes;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed cache's hit writer and disk total, which the benchmarks in this module motivated
 * (docs/benchmarks.md): hits written behind the lookup, in batches, and a budget kept without
 * summing the index on every put. On SQLite; SeedCacheContract covers both databases.
 */
class SeedCacheWriteBehindTest {
  private static final SeedCache.Settings ROOMY = new SeedCache.Settings(1L << 20, 1L << 20);

  @TempDir Path dir;

  private final MutableClock clock = new MutableClock();
  private final Writer writer = new Writer();
  private Database db;
  private ImageStore store;

  /** Runs the hit writer's tasks when the test says so. */
  static final class Writer implements Executor {
    final Queue<Runnable> tasks = new ArrayDeque<>();

    @Override
    public void execute(Runnable task) {
      tasks.add(task);
    }

    void runAll() {
      for (Runnable t; (t = tasks.poll()) != null; ) {
        t.run();
      }
    }
  }

  @BeforeEach
  void open() {
    db = Database.sqlite(dir.resolve("fluxbot.db"));
    store = ImageStore.onDisk(dir.resolve("images"));
  }

  @AfterEach
  void close() {
    db.close();
  }

  private SeedCache cache(SeedCache.Settings settings) {
    return new SeedCache(db, store, settings, clock, writer);
  }

  private static String fp(String name) {
    return Hashes.sha256Hex(("request " + name).getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] image(int fill, int size) {
    byte[] bytes = new byte[size];
    Arrays.fill(bytes, (byte) fill);
    return bytes;
  }

  private void put(SeedCache cache, String name, int fill) {
    cache.put(fp(name), null, ImageType.PNG, 64, 64, image(fill, 100));
  }

  /** fingerprint → "hits@last_hit_at" */
  private Map<String, String> rows() {
    return db.read(
        c -> {
          Map<String, String> rows = new TreeMap<>();
          try (PreparedStatement st =
                  c.prepareStatement("SELECT fingerprint, hits, last_hit_at FROM seed_cache");
              ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              rows.put(rs.getString(1), rs.getLong(2) + "@" + rs.getLong(3));
            }
          }
          return rows;
        });
  }

  @Test
  void hitsAreWrittenByTheHitWriterTogetherInOneBatch() {
    SeedCache cache = cache(ROOMY);
    put(cache, "fox", 1);
    long putAt = clock.millis();
    for (int i = 0; i < 3; i++) {
      clock.advance(Duration.ofSeconds(1));
      assertThat(cache.lookup(fp("fox")))
          .hasValueSatisfying(hit -> assertThat(hit.fromMemory()).isTrue());
    }
    assertThat(rows()).containsExactly(Map.entry(fp("fox"), "0@" + putAt));
    assertThat(writer.tasks).as("one write for the three hits").hasSize(1);

    writer.runAll();
    assertThat(rows()).containsExactly(Map.entry(fp("fox"), "3@" + clock.millis()));
  }

  @Test
  void theEvictorCountsHitsThatAreStillWaiting() {
    SeedCache cache = cache(new SeedCache.Settings(1L << 20, 300));
    put(cache, "a", 1);
    clock.advance(Duration.ofSeconds(1));
    put(cache, "b", 2);
    clock.advance(Duration.ofSeconds(1));
    put(cache, "c", 3);
    clock.advance(Duration.ofSeconds(1));
    cache.lookup(fp("a")); // not written yet
    clock.advance(Duration.ofSeconds(1));

    put(cache, "d", 4);
    assertThat(rows().keySet()).containsExactlyInAnyOrder(fp("a"), fp("c"), fp("d"));
  }

  @Test
  void anEntryThatAnotherInstanceEvictedLeavesMemoryWhenItsHitIsWritten() {
    SeedCache first = cache(ROOMY);
    put(first, "a", 1);
    clock.advance(Duration.ofSeconds(1));
    put(new SeedCache(db, store, new SeedCache.Settings(1L << 20, 100), clock), "b", 2);
    assertThat(rows().keySet()).containsExactly(fp("b"));

    assertThat(first.lookup(fp("a"))).as("memory does not ask the database").isPresent();
    writer.runAll();
    assertThat(first.lookup(fp("a"))).isEmpty();
    assertThat(first.stats().memoryEntries()).isZero();
  }

  @Test
  void anotherInstancesPutsAreCountedWithinTheRecountInterval() {
    SeedCache first = cache(new SeedCache.Settings(1L << 20, 300));
    put(first, "a", 1);
    SeedCache second = cache(ROOMY);
    clock.advance(Duration.ofSeconds(1));
    put(second, "b", 2);
    clock.advance(Duration.ofSeconds(1));
    put(second, "c", 3);
    clock.advance(Duration.ofSeconds(1));
    put(first, "d", 4);
    assertThat(first.stats().diskBytes())
        .as("first counts 200 of its own; the others are not seen yet")
        .isEqualTo(400);

    clock.advance(Duration.ofSeconds(10));
    put(first, "e", 5);
    assertThat(rows().keySet()).containsExactlyInAnyOrder(fp("c"), fp("d"), fp("e"));
  }

  @Test
  void aFullCacheKeepsItsBudgetPutAfterPut() {
    SeedCache cache = cache(new SeedCache.Settings(1L << 20, 1_000));
    for (int i = 0; i < 50; i++) {
      put(cache, "n" + i, i);
      clock.advance(Duration.ofMillis(10));
      assertThat(cache.stats().diskBytes()).isLessThanOrEqualTo(1_000);
    }
    assertThat(rows().keySet())
        .containsExactlyInAnyOrderElementsOf(
            java.util.stream.IntStream.range(40, 50).mapToObj(i -> fp("n" + i)).toList());
  }
}
