package dev.fluxbot.core.seedcache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.imagestore.Hashes;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.seedcache.SeedCache.CachedImage;
import dev.fluxbot.core.seedcache.SeedCache.Settings;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the seed cache does, on any database; one subclass per database. */
abstract class SeedCacheContract {
  private static final Settings ROOMY = new Settings(1L << 20, 1L << 20);

  @TempDir Path dir;

  final MutableClock clock = new MutableClock();
  private final List<Database> opened = new ArrayList<>();
  private String url;
  Database db;
  ImageStore store;

  /** A JDBC URL of a new, empty database; the same URL opens it again after a "restart". */
  abstract String newDatabaseUrl();

  @BeforeEach
  void open() {
    url = newDatabaseUrl();
    db = openDatabase();
    store = ImageStore.onDisk(dir.resolve("images"));
  }

  @AfterEach
  void closeAll() {
    opened.forEach(Database::close);
  }

  private Database openDatabase() {
    Database d = Database.open(url, null, null);
    opened.add(d);
    return d;
  }

  /** A new process, as far as the cache can tell: a new pool, a new store object, empty memory. */
  private SeedCache restart(Settings settings) {
    db.close();
    db = openDatabase();
    store = ImageStore.onDisk(dir.resolve("images"));
    return new SeedCache(db, store, settings, clock);
  }

  private SeedCache cache(Settings settings) {
    return new SeedCache(db, store, settings, clock);
  }

  static String fp(String name) {
    return Hashes.sha256Hex(("request " + name).getBytes(StandardCharsets.UTF_8));
  }

  static byte[] image(int fill, int size) {
    byte[] bytes = new byte[size];
    Arrays.fill(bytes, (byte) fill);
    return bytes;
  }

  private CachedImage put(SeedCache cache, String name, byte[] bytes) {
    return cache.put(fp(name), null, ImageType.PNG, 64, 64, bytes);
  }

  /** The index as name-free rows: fingerprint → hits. */
  private Map<String, Long> rows() {
    return db.read(
        c -> {
          Map<String, Long> rows = new TreeMap<>();
          try (PreparedStatement st =
                  c.prepareStatement("SELECT fingerprint, hits FROM seed_cache");
              ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              rows.put(rs.getString(1), rs.getLong(2));
            }
          }
          return rows;
        });
  }

  private long lastHitAt(String fingerprint) {
    return db.read(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement("SELECT last_hit_at FROM seed_cache WHERE fingerprint = ?")) {
            st.setString(1, fingerprint);
            try (ResultSet rs = st.executeQuery()) {
              assertThat(rs.next()).as("row for %s", fingerprint).isTrue();
              return rs.getLong(1);
            }
          }
        });
  }

  /**
   * A job row as the pipeline leaves it: {@code state}, its image, its references (JSON), where its
   * answer goes and when it got there.
   */
  private void insertJob(
      String id,
      String state,
      String imageHash,
      String referenceHashes,
      String replyAddress,
      Long deliveredAt) {
    db.transaction(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "INSERT INTO jobs (id, platform, user_id, scope_id, requester,"
                      + " command_text, request, reference_hashes, state, model, seed, estimate_milli, created_at, image_hash,"
                      + " reply_address, delivered_at) VALUES (?, 'cli', 'alice', '*', '{}', 'a fox', '{}', ?, ?, 'klein-4b', 42,"
                      + " 1000, 0, ?, ?, ?)")) {
            st.setString(1, id);
            st.setString(2, referenceHashes);
            st.setString(3, state);
            st.setString(4, imageHash);
            st.setString(5, replyAddress);
            st.setObject(6, deliveredAt, java.sql.Types.BIGINT);
            return st.executeUpdate();
          }
        });
  }

  @Test
  void aStoredImageComesBackFromMemory() {
    SeedCache cache = cache(ROOMY);
    byte[] fox = image(1, 100);
    CachedImage stored =
        cache.put(fp("fox"), "01JOB0000000000000000000AA", ImageType.WEBP, 1024, 768, fox);
    assertThat(stored.imageHash()).isEqualTo(Hashes.sha256Hex(fox));
    assertThat(stored.fromMemory()).isFalse();
    assertThat(store.contains(stored.imageHash())).isTrue();

    assertThat(cache.lookup(fp("fox")))
        .hasValueSatisfying(
            hit -> {
              assertThat(hit.fromMemory()).isTrue();
              assertThat(hit.bytes()).isEqualTo(fox);
              assertThat(hit.type()).isEqualTo(ImageType.WEBP);
              assertThat(hit.width()).isEqualTo(1024);
              assertThat(hit.height()).isEqualTo(768);
              assertThat(hit.imageHash()).isEqualTo(stored.imageHash());
            });
  }

  @Test
  void theCallersBytesAreItsOwn() {
    SeedCache cache = cache(ROOMY);
    byte[] fox = image(1, 100);
    cache.put(fp("fox"), null, ImageType.PNG, 64, 64, fox);
    fox[0] = 9;
    cache.lookup(fp("fox")).orElseThrow().bytes()[1] = 9;
    assertThat(cache.lookup(fp("fox")).orElseThrow().bytes()).isEqualTo(image(1, 100));
  }

  @Test
  void afterARestartTheImageIsReadFromDiskThenKeptInMemory() {
    put(cache(ROOMY), "fox", image(1, 100));
    SeedCache restarted = restart(ROOMY);
    assertThat(restarted.lookup(fp("fox")))
        .hasValueSatisfying(
            hit -> {
              assertThat(hit.fromMemory()).isFalse();
              assertThat(hit.bytes()).isEqualTo(image(1, 100));
              assertThat(hit.type()).isEqualTo(ImageType.PNG);
            });
    assertThat(restarted.lookup(fp("fox")))
        .hasValueSatisfying(hit -> assertThat(hit.fromMemory()).isTrue());
  }

  @Test
  void anUnknownFingerprintIsAMiss() {
    SeedCache cache = cache(ROOMY);
    assertThat(cache.lookup(fp("nothing"))).isEmpty();
    assertThat(cache.stats()).isEqualTo(new SeedCache.Stats(0, 0, 0, 0, 0, 1));
  }

  @Test
  void hitsAreCountedWithTheTimeOfTheLastOne() {
    SeedCache cache = cache(ROOMY);
    put(cache, "fox", image(1, 100));
    assertThat(rows()).containsExactly(Map.entry(fp("fox"), 0L));
    assertThat(lastHitAt(fp("fox"))).isEqualTo(clock.millis());

    clock.advance(Duration.ofMinutes(1));
    cache.lookup(fp("fox"));
    SeedCache restarted = restart(ROOMY);
    clock.advance(Duration.ofMinutes(1));
    restarted.lookup(fp("fox"));
    restarted.lookup(fp("wolf"));

    assertThat(rows()).containsExactly(Map.entry(fp("fox"), 2L));
    assertThat(lastHitAt(fp("fox"))).isEqualTo(clock.millis());
    assertThat(restarted.stats().hits()).isEqualTo(1);
    assertThat(restarted.stats().misses()).isEqualTo(1);
  }

  @Test
  void overTheDiskBudgetTheLeastRecentlyHitEntriesGoFirst() {
    SeedCache cache = cache(new Settings(1L << 20, 300));
    CachedImage a = put(cache, "a", image(1, 100));
    clock.advance(Duration.ofSeconds(1));
    CachedImage b = put(cache, "b", image(2, 100));
    clock.advance(Duration.ofSeconds(1));
    CachedImage c = put(cache, "c", image(3, 100));
    clock.advance(Duration.ofSeconds(1));
    cache.lookup(fp("a")); // a is now more recent than b and c
    clock.advance(Duration.ofSeconds(1));

    put(cache, "d", image(4, 100));
    assertThat(rows().keySet()).containsExactlyInAnyOrder(fp("a"), fp("c"), fp("d"));
    assertThat(store.contains(b.imageHash())).isFalse();
    assertThat(cache.lookup(fp("b"))).isEmpty();

    clock.advance(Duration.ofSeconds(1));
    put(cache, "e", image(5, 100));
    assertThat(rows().keySet()).containsExactlyInAnyOrder(fp("a"), fp("d"), fp("e"));
    assertThat(store.contains(c.imageHash())).isFalse();
    assertThat(store.contains(a.imageHash())).isTrue();
    SeedCache.Stats stats = cache.stats();
    assertThat(stats.entries()).isEqualTo(3);
    assertThat(stats.diskBytes()).isEqualTo(300);
  }

  /** Puts a, then b and c, which push a out of a budget of two; returns a. */
  private CachedImage putThenEvict(SeedCache cache, Runnable afterA) {
    CachedImage a = put(cache, "a", image(1, 100));
    afterA.run();
    clock.advance(Duration.ofSeconds(1));
    put(cache, "b", image(2, 100));
    clock.advance(Duration.ofSeconds(1));
    put(cache, "c", image(3, 100));
    assertThat(rows().keySet()).containsExactlyInAnyOrder(fp("b"), fp("c"));
    assertThat(cache.lookup(fp("a"))).isEmpty();
    return a;
  }

  @Test
  void anImageWhoseAnswerIsStillToBeDeliveredSurvivesEviction() {
    SeedCache cache = cache(new Settings(1L << 20, 200));
    String hash = Hashes.sha256Hex(image(1, 100));
    CachedImage a =
        putThenEvict(
            cache,
            () ->
                insertJob(
                    "01JOB0000000000000000000AA", "SUCCEEDED", hash, "[]", "{\"chat\":1}", null));

    assertThat(store.get(a.imageHash()))
        .hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(image(1, 100)));
  }

  @Test
  void anImageThatAnUnfinishedJobUsesAsAReferenceSurvivesEviction() {
    SeedCache cache = cache(new Settings(1L << 20, 200));
    String hash = Hashes.sha256Hex(image(1, 100));
    CachedImage a =
        putThenEvict(
            cache,
            () ->
                insertJob(
                    "01JOB0000000000000000000AB",
                    "QUEUED",
                    null,
                    "[\"" + "0".repeat(64) + "\",\"" + hash + "\"]",
                    "{\"chat\":1}",
                    null));

    assertThat(store.contains(a.imageHash())).isTrue();
  }

  @Test
  void theImageOfADeliveredJobLeavesWithItsEntry() {
    SeedCache cache = cache(new Settings(1L << 20, 200));
    String hash = Hashes.sha256Hex(image(1, 100));
    CachedImage a =
        putThenEvict(
            cache,
            () -> {
              insertJob("01JOB0000000000000000000AC", "SUCCEEDED", hash, "[]", "{\"chat\":1}", 5L);
              insertJob(
                  "01JOB0000000000000000000AD",
                  "SUCCEEDED",
                  hash,
                  "[]",
                  null,
                  null); // the CLI's: no reply to deliver
              insertJob(
                  "01JOB0000000000000000000AE",
                  "FAILED",
                  null,
                  "[\"" + hash + "\"]",
                  "{\"chat\":1}",
                  null);
            });

    assertThat(store.contains(a.imageHash()))
        .as("the budget bounds the disk, not only the index")
        .isFalse();
  }

  @Test
  void anImageThatAnotherEntryUsesSurvivesEviction() {
    SeedCache cache = cache(new Settings(1L << 20, 200));
    CachedImage a = put(cache, "a", image(1, 100));
    clock.advance(Duration.ofSeconds(1));
    put(cache, "same image, other request", image(1, 100));
    clock.advance(Duration.ofSeconds(1));
    put(cache, "c", image(3, 100));

    assertThat(rows().keySet()).containsExactlyInAnyOrder(fp("same image, other request"), fp("c"));
    assertThat(store.contains(a.imageHash())).isTrue();
    assertThat(restart(ROOMY).lookup(fp("same image, other request")))
        .hasValueSatisfying(hit -> assertThat(hit.bytes()).isEqualTo(image(1, 100)));
  }

  @Test
  void anImageLargerThanTheWholeDiskBudgetIsNotKept() {
    SeedCache cache = cache(new Settings(1L << 20, 150));
    put(cache, "a", image(1, 100));
    clock.advance(Duration.ofSeconds(1));
    CachedImage huge = put(cache, "huge", image(2, 200));
    assertThat(huge.bytes()).isEqualTo(image(2, 200));
    assertThat(rows()).isEmpty();
    assertThat(cache.lookup(fp("huge"))).isEmpty();
    assertThat(store.contains(huge.imageHash())).isFalse();
  }

  @Test
  void aMissingFileDropsItsIndexRow() {
    CachedImage fox = put(cache(ROOMY), "fox", image(1, 100));
    SeedCache restarted = restart(ROOMY);
    assertThat(store.delete(fox.imageHash())).isTrue();

    assertThat(restarted.lookup(fp("fox"))).isEmpty();
    assertThat(rows()).isEmpty();
    assertThat(restarted.stats().misses()).isEqualTo(1);
  }

  @Test
  void putReplacesAnEntryAndDeletesTheImageNoLongerUsed() {
    SeedCache cache = cache(ROOMY);
    CachedImage first = put(cache, "fox", image(1, 100));
    CachedImage second = cache.put(fp("fox"), null, ImageType.JPEG, 32, 32, image(2, 50));
    assertThat(store.contains(first.imageHash())).isFalse();
    assertThat(cache.lookup(fp("fox")))
        .hasValueSatisfying(
            hit -> {
              assertThat(hit.imageHash()).isEqualTo(second.imageHash());
              assertThat(hit.type()).isEqualTo(ImageType.JPEG);
            });
    assertThat(restart(ROOMY).lookup(fp("fox")))
        .hasValueSatisfying(hit -> assertThat(hit.bytes()).isEqualTo(image(2, 50)));
    assertThat(cache(ROOMY).stats().diskBytes()).isEqualTo(50);
  }

  @Test
  void theMemoryLayerStaysWithinItsBound() {
    SeedCache cache = cache(new Settings(1_000, 1L << 20));
    for (int i = 0; i < 25; i++) {
      put(cache, "n" + i, image(i, 100));
    }
    SeedCache.Stats stats = cache.stats();
    assertThat(stats.entries()).isEqualTo(25);
    assertThat(stats.memoryBytes()).isPositive().isLessThanOrEqualTo(1_000);
    assertThat(stats.memoryEntries()).isBetween(1L, 10L);
    for (int i = 0; i < 25; i++) {
      int fill = i;
      assertThat(cache.lookup(fp("n" + i)))
          .hasValueSatisfying(hit -> assertThat(hit.bytes()).isEqualTo(image(fill, 100)));
    }
    assertThat(cache.stats().memoryBytes()).isLessThanOrEqualTo(1_000);
    assertThat(cache.stats().hits()).isEqualTo(25);
  }

  @Test
  void anImageLargerThanTheMemoryBoundIsServedFromDisk() {
    SeedCache cache = cache(new Settings(1_000, 1L << 20));
    put(cache, "big", image(7, 2_000));
    assertThat(cache.lookup(fp("big")))
        .hasValueSatisfying(hit -> assertThat(hit.fromMemory()).isFalse());
    assertThat(cache.lookup(fp("big")))
        .hasValueSatisfying(hit -> assertThat(hit.fromMemory()).isFalse());
    assertThat(cache.stats().memoryBytes()).isZero();
  }

  @Test
  void anEntryThatAnotherInstanceEvictedIsNotServedFromMemory() {
    SeedCache first = cache(ROOMY);
    put(first, "a", image(1, 100));
    clock.advance(Duration.ofSeconds(1));
    SeedCache second = cache(new Settings(1L << 20, 100));
    put(second, "b", image(2, 100));

    assertThat(rows().keySet()).containsExactly(fp("b"));
    assertThat(first.lookup(fp("a"))).isEmpty();
    assertThat(first.stats().memoryEntries()).isZero();
  }

  @Test
  void concurrentPutsAndLookupsKeepTheBudgetAndEveryRowsFile() throws Exception {
    SeedCache cache = cache(new Settings(2_000, 1_000));
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int thread = t;
        done.add(
            threads.submit(
                () -> {
                  for (int i = 0; i < 20; i++) {
                    put(
                        cache,
                        "t" + thread + "-" + i,
                        image(i % 5, 100)); // five distinct images, shared by many rows
                    cache.lookup(fp("t" + ((thread + 1) % 8) + "-" + i));
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    }
    SeedCache.Stats stats = cache.stats();
    assertThat(stats.diskBytes()).isLessThanOrEqualTo(1_000);
    assertThat(stats.memoryBytes()).isLessThanOrEqualTo(2_000);
    SeedCache restarted = restart(ROOMY);
    for (String fingerprint : rows().keySet()) {
      assertThat(restarted.lookup(fingerprint)).as("row %s", fingerprint).isPresent();
    }
  }
}
