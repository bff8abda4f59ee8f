package dev.fluxbot.core.imagestore;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DiskImageStoreTest {
  private static final byte[] FOX = "a fox, as a PNG would be".getBytes(UTF_8);

  @TempDir Path root;

  private Path images() {
    return root.resolve("data/images");
  }

  private List<Path> filesUnder(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).map(dir::relativize).sorted().toList();
    }
  }

  @Test
  void putReturnsTheSha256AndFilesTheImageUnderItsFirstTwoDigits() throws IOException {
    ImageStore store = new DiskImageStore(images());
    String hash = store.put(FOX);
    assertThat(hash).isEqualTo(Hashes.sha256Hex(FOX)).matches("[0-9a-f]{64}");
    assertThat(filesUnder(images()))
        .containsExactly(Path.of(hash.substring(0, 2), hash.substring(2)));
    assertThat(images().resolve(hash.substring(0, 2)).resolve(hash.substring(2)))
        .hasBinaryContent(FOX);
    assertThat(store.contains(hash)).isTrue();
    assertThat(store.get(hash)).hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(FOX));
  }

  @Test
  void anImageIsReadableByItsOwnerOnly() throws IOException {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
    String hash = new DiskImageStore(images()).put(FOX);
    assertThat(
            java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(
                    images().resolve(hash.substring(0, 2)).resolve(hash.substring(2)))))
        .isEqualTo("rw-------");
  }

  @Test
  void aFolderRemovedWhileTheStoreIsOpenIsMadeAgainByTheNextPut() throws IOException {
    ImageStore store = new DiskImageStore(images());
    String hash = store.put(FOX);
    ((DiskImageStore) store).flush();
    try (Stream<Path> all = Files.walk(images())) {
      for (Path path : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
    assertThat(store.put(FOX)).isEqualTo(hash);
    assertThat(store.get(hash)).hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(FOX));
    assertThat(filesUnder(images())).hasSize(1);
  }

  @Test
  void putIsIdempotent() throws IOException {
    ImageStore store = new DiskImageStore(images());
    String first = store.put(FOX);
    String second = store.put(FOX.clone());
    assertThat(second).isEqualTo(first);
    assertThat(filesUnder(images())).hasSize(1);
  }

  @Test
  void anUnknownHashIsEmptyNotAnError() {
    ImageStore store = new DiskImageStore(images());
    assertThat(store.get("0".repeat(64))).isEmpty();
    assertThat(store.contains("0".repeat(64))).isFalse();
    assertThat(store.delete("0".repeat(64))).isFalse();
  }

  @Test
  void deleteRemovesTheImageAndSaysWhetherThereWasOne() {
    ImageStore store = new DiskImageStore(images());
    String hash = store.put(FOX);
    assertThat(store.delete(hash)).isTrue();
    assertThat(store.contains(hash)).isFalse();
    assertThat(store.get(hash)).isEmpty();
    assertThat(store.delete(hash)).isFalse();
  }

  @Test
  void aWriteThatFailsBeforeTheMoveLeavesNothingUnderTheFinalName() throws IOException {
    List<Path> seen = new java.util.ArrayList<>();
    DiskImageStore store =
        new DiskImageStore(
            images(),
            temp -> {
              seen.add(temp);
              assertThat(temp)
                  .hasBinaryContent(FOX); // the whole image is written before it gets its name
              throw new IOException("disk pulled");
            });
    UncheckedIOException e = catchThrowableOfType(UncheckedIOException.class, () -> store.put(FOX));
    assertThat(e).hasMessageContaining("disk pulled");
    String hash = Hashes.sha256Hex(FOX);
    assertThat(seen)
        .singleElement()
        .satisfies(
            temp -> {
              assertThat(temp.getParent()).isEqualTo(images().resolve(hash.substring(0, 2)));
              assertThat(temp.getFileName().toString()).startsWith(DiskImageStore.TEMP_PREFIX);
            });
    assertThat(store.contains(hash)).isFalse();
    assertThat(filesUnder(images())).isEmpty();
  }

  @Test
  void aTempFileLeftByACrashIsNeverReadAsAnImage() throws IOException {
    String hash = Hashes.sha256Hex(FOX);
    Path folder = Files.createDirectories(images().resolve(hash.substring(0, 2)));
    Files.write(folder.resolve(DiskImageStore.TEMP_PREFIX + "123.part"), new byte[] {1, 2});
    ImageStore store = new DiskImageStore(images());
    assertThat(store.contains(hash)).isFalse();
    assertThat(store.put(FOX)).isEqualTo(hash);
    assertThat(store.get(hash)).hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(FOX));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "../../etc/passwd",
        "",
        "abc",
        "EE0F4F6D7E3A2B2D67F1EF08F5FF9AB09C2D0D9E5E1C1D1B1D44BD7CB4A8D6FF",
        "../../../../../../../../../../../../../../../../../../../etc/pwd",
        "ee0f4f6d7e3a2b2d67f1ef08f5ff9ab09c2d0d9e5e1c1d1b1d44bd7cb4a8d6fg",
        "ee0f4f6d7e3a2b2d67f1ef08f5ff9ab09c2d0d9e5e1c1d1b1d44bd7cb4a8d6ff0"
      })
  void aStringThatIsNotAHashIsRefusedBeforeAnyFileIsTouched(String bad) throws IOException {
    Path secret = Files.writeString(root.resolve("secret"), "keep");
    ImageStore store = new DiskImageStore(images());
    for (Runnable call :
        List.<Runnable>of(
            () -> store.get(bad), () -> store.contains(bad), () -> store.delete(bad))) {
      IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class, call::run);
      assertThat(e)
          .hasMessage(
              "image hash must be 64 lowercase hex digits (a SHA-256); got \"" + bad + "\"");
    }
    assertThat(secret).hasContent("keep");
    assertThat(images()).doesNotExist();
  }

  @Test
  void theHashOfAKnownImageIsItsSha256() {
    assertThat(Hashes.sha256Hex("abc".getBytes(UTF_8)))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  @Test
  void aFileCutShortByAPowerLossReadsAsMissingAndIsWrittenAgainByTheNextPut() throws IOException {
    String hash = new DiskImageStore(images()).put(FOX);
    DiskImageStore store =
        new DiskImageStore(images()); // the next process, after the power came back
    Path file = store.pathOf(hash);
    Files.write(file, new byte[0]); // what a new file can be after a power cut before its sync
    assertThat(store.get(hash)).isEmpty();
    assertThat(file).doesNotExist();
    assertThat(store.put(FOX)).isEqualTo(hash);
    assertThat(store.get(hash)).hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(FOX));

    Files.write(file, java.util.Arrays.copyOf(FOX, 3));
    assertThat(store.put(FOX)).as("a put over a file of the wrong length").isEqualTo(hash);
    assertThat(file).hasBinaryContent(FOX);

    String torn = new String(FOX, UTF_8).replace('f', 'g'); // same length, other bytes
    Files.writeString(file, torn);
    DiskImageStore later = new DiskImageStore(images());
    assertThat(later.get(hash)).as("checked against its name on a process's first read").isEmpty();
    assertThat(file).doesNotExist();
  }

  @Test
  void flushWaitsForTheBackgroundSyncOfEveryImageWrittenBeforeIt() throws Exception {
    DiskImageStore store = new DiskImageStore(images());
    List<String> hashes = new java.util.ArrayList<>();
    try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
      List<java.util.concurrent.Future<String>> puts = new java.util.ArrayList<>();
      for (int i = 0; i < 40; i++) {
        byte[] image = ("image " + i).getBytes(UTF_8);
        puts.add(pool.submit(() -> store.put(image)));
      }
      for (var put : puts) {
        hashes.add(put.get());
      }
    }
    store.flush();
    assertThat(store.pending()).isZero();
    assertThat(hashes)
        .doesNotHaveDuplicates()
        .allSatisfy(h -> assertThat(store.contains(h)).isTrue());
  }
}
