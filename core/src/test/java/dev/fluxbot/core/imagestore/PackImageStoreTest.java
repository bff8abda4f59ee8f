package dev.fluxbot.core.imagestore;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PackImageStoreTest {
  private static final byte[] FOX = "a fox, as a PNG would be".getBytes(UTF_8);
  private static final byte[] HEN = "a hen, as a JPEG would be".getBytes(UTF_8);

  @TempDir Path root;

  private final List<PackImageStore> opened = new ArrayList<>();

  @AfterEach
  void closeAll() {
    opened.forEach(PackImageStore::close);
  }

  private Path images() {
    return root.resolve("data/images");
  }

  private PackImageStore open() {
    return open(PackImageStore.DEFAULT_PACK_BYTES);
  }

  private PackImageStore open(long packBytes) {
    PackImageStore store = new PackImageStore(images(), packBytes);
    opened.add(store);
    return store;
  }

  private List<Path> packFiles() throws IOException {
    try (Stream<Path> files = Files.list(images().resolve("packs"))) {
      return files.filter(p -> p.toString().endsWith(".pack")).sorted().toList();
    }
  }

  /** Changes a pack file in place, as a crash or a bad disk would. */
  private interface Damage {
    void apply(RandomAccessFile pack) throws IOException;
  }

  /**
   * Stores {@code images} in a new store, closes it, damages its one pack, and returns the images'
   * names.
   */
  private List<String> storeThenDamage(Damage damage, byte[]... images) throws IOException {
    PackImageStore store = open();
    List<String> names = java.util.Arrays.stream(images).map(store::put).toList();
    store.close();
    try (RandomAccessFile file = new RandomAccessFile(packFiles().get(0).toFile(), "rw")) {
      damage.apply(file);
    }
    return names;
  }

  private static byte[] image(int i, int size) {
    byte[] bytes = new byte[size];
    new SplittableRandom(i).nextBytes(bytes);
    return bytes;
  }

  private static void awaitTrue(String what, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 20 s: " + what);
      }
      Thread.sleep(10);
    }
  }

  @Test
  void putReturnsTheSha256AndTheImageIsReadBackFromItsPackAlsoByTheNextProcess()
      throws IOException {
    PackImageStore store = open();
    String hash = store.put(FOX);

    assertThat(hash).isEqualTo(Hashes.sha256Hex(FOX));
    assertThat(store.get(hash)).hasValueSatisfying(b -> assertThat(b).isEqualTo(FOX));
    assertThat(store.contains(hash)).isTrue();
    assertThat(packFiles())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getFileName().toString()).isEqualTo("0-0.pack");
              assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p)))
                  .isEqualTo("rw-------");
              assertThat(Files.size(p)).isEqualTo(PackImageStore.HEADER_BYTES + FOX.length);
            });
    store.close();

    PackImageStore next = open();
    assertThat(next.get(hash)).hasValueSatisfying(b -> assertThat(b).isEqualTo(FOX));
    assertThat(next.put(HEN)).isEqualTo(Hashes.sha256Hex(HEN));
    assertThat(packFiles())
        .as("a store never appends to a pack an earlier one wrote")
        .extracting(p -> p.getFileName().toString())
        .containsExactly("0-0.pack", "0-1.pack");
  }

  @Test
  void putIsIdempotentAndAppendsNothingTheSecondTime() throws IOException {
    PackImageStore store = open();
    String hash = store.put(FOX);
    long size = Files.size(packFiles().get(0));

    assertThat(store.put(FOX)).isEqualTo(hash);
    assertThat(open().put(FOX)).as("another store that read the pack").isEqualTo(hash);

    assertThat(packFiles()).hasSize(1);
    assertThat(Files.size(packFiles().get(0))).isEqualTo(size);
  }

  @Test
  void aDeleteStaysDoneAfterARestartAndTheImageCanBeStoredAgain() {
    PackImageStore store = open();
    String fox = store.put(FOX);
    String hen = store.put(HEN);

    assertThat(store.delete(fox)).isTrue();
    assertThat(store.delete(fox)).isFalse();
    assertThat(store.get(fox)).isEmpty();
    assertThat(store.contains(fox)).isFalse();
    store.close();

    PackImageStore next = open();
    assertThat(next.get(fox)).as("the tombstone is read back").isEmpty();
    assertThat(next.get(hen)).hasValueSatisfying(b -> assertThat(b).isEqualTo(HEN));
    assertThat(next.put(FOX)).isEqualTo(fox);
    next.close();
    assertThat(open().get(fox))
        .as("stored again after its tombstone")
        .hasValueSatisfying(b -> assertThat(b).isEqualTo(FOX));
  }

  @Test
  void aPackCutShortByACrashKeepsItsWholeRecordsAndLosesOnlyTheTail() throws IOException {
    // the hen's last bytes never reached the disk
    List<String> names = storeThenDamage(file -> file.setLength(file.length() - 3), FOX, HEN);
    String fox = names.get(0);
    String hen = names.get(1);

    PackImageStore next = open();
    assertThat(next.get(fox)).hasValueSatisfying(b -> assertThat(b).isEqualTo(FOX));
    assertThat(next.get(hen)).isEmpty();
    assertThat(next.put(HEN)).isEqualTo(hen);
    next.close();

    PackImageStore third = open();
    assertThat(third.get(hen)).hasValueSatisfying(b -> assertThat(b).isEqualTo(HEN));
    assertThat(third.get(fox)).hasValueSatisfying(b -> assertThat(b).isEqualTo(FOX));
  }

  @Test
  void aHeaderThatDoesNotCheckOutEndsThePackThere() throws IOException {
    List<String> names =
        storeThenDamage(
            file -> {
              file.seek(
                  PackImageStore.HEADER_BYTES
                      + FOX.length
                      + 30); // inside the hen's header: its hash
              file.write(0x5a);
            },
            FOX,
            HEN);
    String fox = names.get(0);
    String hen = names.get(1);

    PackImageStore next = open();
    assertThat(next.get(fox)).isPresent();
    assertThat(next.get(hen)).isEmpty();
  }

  @Test
  void anImageWhoseBytesDoNotMatchItsNameIsDroppedOnTheFirstReadAndStaysDropped()
      throws IOException {
    String fox =
        storeThenDamage(
                file -> {
                  file.seek(
                      PackImageStore
                          .HEADER_BYTES); // the payload: a power cut kept the header, not the bytes
                  file.write(new byte[FOX.length]);
                },
                FOX)
            .get(0);

    PackImageStore next = open();
    assertThat(next.contains(fox)).as("not read yet").isTrue();
    assertThat(next.get(fox)).isEmpty();
    assertThat(next.contains(fox)).isFalse();
    next.close();
    PackImageStore third = open();
    assertThat(third.get(fox)).isEmpty();
    assertThat(third.put(FOX)).as("a put writes it again").isEqualTo(fox);
    assertThat(third.get(fox)).hasValueSatisfying(b -> assertThat(b).isEqualTo(FOX));
  }

  @Test
  void aPutOfAnImageWhoseRecordIsTornWritesItAgain() throws IOException {
    PackImageStore store = open();
    String fox = store.put(FOX);
    store.close();
    try (RandomAccessFile file = new RandomAccessFile(packFiles().get(0).toFile(), "rw")) {
      file.seek(PackImageStore.HEADER_BYTES + 2);
      file.write('X');
    }

    PackImageStore next = open();
    assertThat(next.put(FOX)).isEqualTo(fox);
    assertThat(next.get(fox)).hasValueSatisfying(b -> assertThat(b).isEqualTo(FOX));
  }

  @Test
  void twoStoresOnOneFolderWriteTheirOwnPacksAndReadEachOthers() throws IOException {
    PackImageStore a = open();
    PackImageStore b = open();
    String fox = a.put(FOX);
    String hen = b.put(HEN);

    assertThat(packFiles())
        .extracting(p -> p.getFileName().toString())
        .containsExactly("0-0.pack", "1-0.pack");
    assertThat(b.get(fox))
        .as("a miss rescans")
        .hasValueSatisfying(x -> assertThat(x).isEqualTo(FOX));
    assertThat(a.contains(hen)).isTrue();

    assertThat(a.delete(hen)).as("a deletes what b wrote").isTrue();
    b.rescan();
    assertThat(b.get(hen)).as("b reads a's tombstone").isEmpty();
    a.close();
    b.close();
    PackImageStore c = open();
    assertThat(c.get(hen)).isEmpty();
    assertThat(c.get(fox)).isPresent();
    assertThat(packFiles()).as("c, which wrote nothing, made no pack").hasSize(2);
  }

  @Test
  void imagesInTheOlderFileLayoutAreReadDeletedAndNotStoredTwice() throws IOException {
    DiskImageStore old = new DiskImageStore(images());
    String fox = old.put(FOX);
    old.flush();

    PackImageStore store = open();
    assertThat(store.get(fox)).hasValueSatisfying(b -> assertThat(b).isEqualTo(FOX));
    assertThat(store.contains(fox)).isTrue();
    assertThat(store.put(FOX)).isEqualTo(fox);
    assertThat(images().resolve("packs")).as("nothing new was written").doesNotExist();

    assertThat(store.delete(fox)).isTrue();
    assertThat(old.pathOf(fox)).doesNotExist();
    assertThat(store.get(fox)).isEmpty();
  }

  @Test
  void aSealedPackWithMostlyDeadRecordsIsCompactedAndItsLiveImagesKept() throws Exception {
    int size = 1000;
    PackImageStore store = open(4 * (PackImageStore.HEADER_BYTES + size)); // four images per pack
    List<String> hashes = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      hashes.add(store.put(image(i, size)));
    }
    Path first = packFiles().get(0);
    assertThat(packFiles()).hasSize(3);

    store.delete(hashes.get(0));
    store.delete(hashes.get(1));
    store.delete(hashes.get(2));

    awaitTrue("the first pack is compacted away", () -> !Files.exists(first));
    Set<String> deleted = Set.copyOf(hashes.subList(0, 3));
    for (int i = 0; i < 10; i++) {
      String h = hashes.get(i);
      if (deleted.contains(h)) {
        assertThat(store.get(h)).as("image %d", i).isEmpty();
      } else {
        byte[] expected = image(i, size);
        assertThat(store.get(h))
            .as("image %d", i)
            .hasValueSatisfying(b -> assertThat(b).isEqualTo(expected));
      }
    }
    store.close();
    PackImageStore next = open(4 * (PackImageStore.HEADER_BYTES + size));
    for (int i = 0; i < 10; i++) {
      String h = hashes.get(i);
      assertThat(next.get(h).isPresent())
          .as("image %d after a restart", i)
          .isEqualTo(!deleted.contains(h));
    }
  }

  @Test
  void anotherStoreFollowsACompactionToTheImagesNewPlace() throws Exception {
    int size = 1000;
    long packBytes = 4 * (PackImageStore.HEADER_BYTES + size);
    PackImageStore a = open(packBytes);
    List<String> hashes = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      hashes.add(a.put(image(i, size)));
    }
    Path first = packFiles().get(0);
    PackImageStore b = open(packBytes);
    assertThat(b.get(hashes.get(3))).isPresent();

    a.delete(hashes.get(0));
    a.delete(hashes.get(1));
    awaitTrue("a compacts its first pack", () -> !Files.exists(first));
    b.rescan();

    assertThat(b.get(hashes.get(0))).isEmpty();
    assertThat(b.get(hashes.get(1))).isEmpty();
    for (int i = 2; i < 10; i++) {
      byte[] expected = image(i, size);
      assertThat(b.get(hashes.get(i)))
          .as("image %d", i)
          .hasValueSatisfying(x -> assertThat(x).isEqualTo(expected));
    }
  }

  @Test
  void concurrentPutsGetsAndDeletesLeaveExactlyTheImagesNotDeleted() throws Exception {
    int size = 700;
    PackImageStore store =
        open(8 * (PackImageStore.HEADER_BYTES + size)); // many packs, many compactions
    Set<String> kept = ConcurrentHashMap.newKeySet();
    Set<String> deleted = ConcurrentHashMap.newKeySet();
    try (ExecutorService pool = Executors.newFixedThreadPool(6)) {
      List<Future<?>> work = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        int thread = t;
        work.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 150; i++) {
                    int n = thread * 1000 + i;
                    byte[] bytes = image(n, size);
                    String h = store.put(bytes);
                    assertThat(store.get(h))
                        .hasValueSatisfying(b -> assertThat(b).isEqualTo(bytes));
                    if (i % 3 != 0) {
                      assertThat(store.delete(h)).isTrue();
                      deleted.add(h);
                    } else {
                      kept.add(h);
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : work) {
        f.get();
      }
    }
    store.flush();
    for (String h : kept) {
      assertThat(store.get(h)).as(h).isPresent();
    }
    store.close(); // waits for a compaction under way
    PackImageStore next = open(8 * (PackImageStore.HEADER_BYTES + size));
    Set<String> present = new HashSet<>();
    for (String h : kept) {
      if (next.get(h).isPresent()) {
        present.add(h);
      }
    }
    assertThat(present).isEqualTo(kept);
    assertThat(deleted).noneSatisfy(h -> assertThat(next.contains(h)).isTrue());
  }

  @Test
  void anInterruptedThreadStoresAndReadsAndKeepsItsInterrupt() {
    PackImageStore store = open();
    Thread.currentThread().interrupt();
    try {
      String fox = store.put(FOX);
      assertThat(store.get(fox)).isPresent();
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    String hen = store.put(HEN);
    assertThat(store.get(hen)).as("the pack's channel is still open for the others").isPresent();
  }

  @Test
  void flushWaitsForTheBackgroundSync() throws Exception {
    PackImageStore store = open();
    try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
      List<Future<String>> puts = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        byte[] bytes = image(i, 100);
        puts.add(pool.submit(() -> store.put(bytes)));
      }
      for (Future<String> f : puts) {
        f.get();
      }
    }
    store.flush();
    assertThat(store.pendingBytes()).isZero();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "../../etc/passwd",
        "ABCDEF",
        "",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"
      })
  void aStringThatIsNotAHashIsRefusedBeforeAnythingIsTouched(String bad) {
    ImageStore store = open();
    assertThatThrownBy(() -> store.get(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("image hash");
    assertThatThrownBy(() -> store.delete(bad)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.contains(bad)).isInstanceOf(IllegalArgumentException.class);
    assertThat(images().resolve("packs")).doesNotExist();
  }

  @Test
  void theProductionStoreIsThePackStore() {
    try (ImageStore store = ImageStore.onDisk(images())) {
      assertThat(store).isInstanceOf(PackImageStore.class);
    }
  }
}
