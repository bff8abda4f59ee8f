package dev.fluxbot.core.cache;

import dev.fluxbot.core.ImageStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.Optional;

/**
 * {@link ImageStore#onDisk}: {@code dir/ab/cdef…}, the first two hex digits of the SHA-256 as the
 * folder. A write goes to a temporary file in that folder ({@code .tmp-…}, never a valid hash, so
 * never read as an image), is forced to disk, then renamed over the final name in one step.
 */
public final class DiskImageStore implements ImageStore {
  static final String TEMP_PREFIX = ".tmp-";

  /** A seam for tests: runs between writing the temporary file and moving it into place. */
  @FunctionalInterface
  interface BeforeMove {
    void run(Path temp) throws IOException;
  }

  private final Path dir;
  private final BeforeMove beforeMove;

  public DiskImageStore(Path dir) {
    this(dir, temp -> {});
  }

  DiskImageStore(Path dir, BeforeMove beforeMove) {
    this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
    this.beforeMove = beforeMove;
  }

  @Override
  public String put(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    String hash = Hashes.sha256Hex(bytes);
    Path target = pathOf(hash);
    if (!Files.isRegularFile(target)) {
      write(target, bytes);
    }
    return hash;
  }

  private void write(Path target, byte[] bytes) {
    Path temp = null;
    try {
      Files.createDirectories(target.getParent());
      temp = Files.createTempFile(target.getParent(), TEMP_PREFIX, ".part");
      try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          out.write(buffer);
        }
        out.force(true);
      }
      beforeMove.run(temp);
      move(temp, target);
    } catch (IOException e) {
      deleteQuietly(temp);
      throw new UncheckedIOException("image store " + dir + ": cannot write " + target.getFileName() + ": " + e, e);
    }
  }

  private static void move(Path temp, Path target) throws IOException {
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING); // same folder: a rename on any sane disk
    }
  }

  private static void deleteQuietly(Path temp) {
    if (temp == null) {
      return;
    }
    try {
      Files.deleteIfExists(temp);
    } catch (IOException ignored) {
      // a leftover .tmp- file is never read as an image
    }
  }

  @Override
  public Optional<byte[]> get(String hash) {
    Path file = pathOf(hash);
    try {
      return Optional.of(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("image store " + dir + ": cannot read " + hash + ": " + e, e);
    }
  }

  @Override
  public boolean delete(String hash) {
    Path file = pathOf(hash);
    try {
      return Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("image store " + dir + ": cannot delete " + hash + ": " + e, e);
    }
  }

  @Override
  public boolean contains(String hash) {
    return Files.isRegularFile(pathOf(hash));
  }

  /** Where {@code hash} lives; the check keeps any other string from naming a path at all. */
  Path pathOf(String hash) {
    Hashes.requireSha256Hex("image hash", hash);
    return dir.resolve(hash.substring(0, 2)).resolve(hash.substring(2));
  }

  @Override
  public String toString() {
    return "ImageStore[" + dir + "]";
  }
}
