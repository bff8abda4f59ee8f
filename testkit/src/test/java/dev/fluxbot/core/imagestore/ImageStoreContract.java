package dev.fluxbot.core.imagestore;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every {@link ImageStore} does, whatever keeps the bytes; one subclass per kind of store (the
 * local packs, S3).
 */
abstract class ImageStoreContract {
  static final byte[] FOX = "a fox, as a PNG would be".getBytes(UTF_8);
  static final byte[] HEN = "a hen, as a JPEG would be".getBytes(UTF_8);

  ImageStore store;
  private final List<ImageStore> opened = new ArrayList<>();

  /** A new, empty store of the kind under test. */
  abstract ImageStore newStore();

  /** Another store on the same images: a second instance, or the next process. */
  abstract ImageStore sameImages();

  ImageStore track(ImageStore s) {
    opened.add(s);
    return s;
  }

  @BeforeEach
  void openStore() {
    store = track(newStore());
  }

  @AfterEach
  void closeStores() {
    opened.forEach(ImageStore::close);
  }

  static byte[] image(int seed, int size) {
    byte[] bytes = new byte[size];
    new SplittableRandom(seed).nextBytes(bytes);
    return bytes;
  }

  @Test
  void putReturnsTheSha256AndGetContainsAndDeleteFindIt() {
    String hash = store.put(FOX);

    assertThat(hash).isEqualTo(Hashes.sha256Hex(FOX));
    assertThat(store.get(hash)).hasValueSatisfying(b -> assertThat(b).isEqualTo(FOX));
    assertThat(store.contains(hash)).isTrue();
    assertThat(store.delete(hash)).isTrue();
    assertThat(store.contains(hash)).isFalse();
    assertThat(store.get(hash)).isEmpty();
    assertThat(store.delete(hash)).as("nothing left to delete").isFalse();
  }

  @Test
  void putIsIdempotentAndAnImageCanBeStoredAgainAfterItsDelete() {
    String hash = store.put(FOX);
    assertThat(store.put(FOX)).isEqualTo(hash);
    assertThat(store.put(FOX.clone())).isEqualTo(hash);
    assertThat(store.get(hash)).hasValueSatisfying(b -> assertThat(b).isEqualTo(FOX));

    store.delete(hash);
    assertThat(store.put(FOX)).isEqualTo(hash);
    assertThat(store.get(hash)).hasValueSatisfying(b -> assertThat(b).isEqualTo(FOX));
  }

  @Test
  void anImageNobodyStoredIsAbsentNotAnError() {
    store.put(HEN);
    String fox = Hashes.sha256Hex(FOX);

    assertThat(store.get(fox)).isEmpty();
    assertThat(store.contains(fox)).isFalse();
    assertThat(store.delete(fox)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "abc",
        "../../etc/passwd",
        "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"
      })
  void aStringThatIsNotAHashIsRefusedBeforeAnythingIsTouched(String bad) {
    assertThatThrownBy(() -> store.get(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("64 lowercase hex digits");
    assertThatThrownBy(() -> store.contains(bad)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.delete(bad)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aLargeImageComesBackWhole() {
    byte[] big = image(1, 24 << 20); // a 4 MP PNG that compresses badly is about this size
    String hash = store.put(big);

    assertThat(store.get(hash)).hasValueSatisfying(b -> assertThat(b).isEqualTo(big));
    assertThat(sameImagesStore().get(hash)).hasValueSatisfying(b -> assertThat(b).isEqualTo(big));
  }

  @Test
  void anotherStoreOnTheSameImagesReadsAndDeletesWhatThisOneWrote() {
    String fox = store.put(FOX);
    ImageStore other = sameImagesStore();

    assertThat(other.contains(fox)).isTrue();
    assertThat(other.get(fox)).hasValueSatisfying(b -> assertThat(b).isEqualTo(FOX));
    assertThat(other.delete(fox)).isTrue();
    assertThat(other.get(fox)).isEmpty();
    assertThat(sameImagesStore().get(fox)).as("deleted for a store opened after").isEmpty();
  }

  @Test
  void concurrentPutsOfTheSameImageAllGetItsNameAndItReadsBackWhole() throws Exception {
    byte[] img = image(7, 256 << 10);
    String expected = Hashes.sha256Hex(img);
    ImageStore other = sameImagesStore();
    int threads = 16;
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<String>> names = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        ImageStore s = i % 2 == 0 ? store : other;
        names.add(
            pool.submit(
                () -> {
                  go.await();
                  return s.put(img.clone());
                }));
      }
      go.countDown();
      Set<String> got = new HashSet<>();
      for (Future<String> f : names) {
        got.add(f.get());
      }
      assertThat(got).containsExactly(expected);
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.get(expected)).hasValueSatisfying(b -> assertThat(b).isEqualTo(img));
    assertThat(other.get(expected)).hasValueSatisfying(b -> assertThat(b).isEqualTo(img));
  }

  @Test
  void checkPassesOnAWorkingStoreAndLeavesNoImageBehind() {
    store.check();
    store.check();
    assertThat(store.put(FOX)).isEqualTo(Hashes.sha256Hex(FOX));
  }

  ImageStore sameImagesStore() {
    return track(sameImages());
  }
}
