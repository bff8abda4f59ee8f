package dev.fluxbot.core.imagestore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Content-addressed image bytes: an image's name is the lowercase hex SHA-256 of its bytes, so the
 * same image is stored once however many cache entries and jobs refer to it. Every method may block
 * on disk or network I/O; a hash that is not 64 lowercase hex digits is refused ({@link
 * IllegalArgumentException}) before anything is touched.
 *
 * <p>"Absent" is an answer, not a failure: {@link #get} is empty and {@link #contains} false only
 * when the store knows the image is not there. A store that cannot tell (a disk that fails, an S3
 * server that does not answer or refuses access) throws an {@link UncheckedIOException} ({@link
 * UnavailableException} for S3), and a caller must take that as "unknown": the seed cache drops an
 * entry only when its image is really gone.
 */
public interface ImageStore extends AutoCloseable {
  /**
   * Stores {@code bytes} and returns their hash. Idempotent. Atomic: a reader, or a process that
   * starts after a crash, sees the whole image under its name or nothing.
   */
  String put(byte[] bytes);

  /** The bytes stored under {@code hash}, or empty where there are none. */
  Optional<byte[]> get(String hash);

  /** Removes the image; true if there was one. */
  boolean delete(String hash);

  boolean contains(String hash);

  /**
   * Checks that the store can be written, read and deleted from, before the bot takes work; throws
   * an {@link UncheckedIOException} saying why not. The local store has nothing to check here.
   */
  default void check() {}

  /**
   * Forces what was written to disk and releases the store's files; reads may still work after it.
   */
  @Override
  default void close() {}

  /**
   * The production store: pack files under {@code dir/packs/}, created as needed; images from the
   * older layout ({@code dir/ab/cdef…}) are still read where they are.
   */
  static ImageStore onDisk(Path dir) {
    return new PackImageStore(dir);
  }

  /**
   * The store several bot instances share: one object per image, {@code PREFIX/<sha256>}, in an S3
   * bucket (AWS, or any S3-compatible server at {@link S3Location#endpoint}). Opening it sends no
   * request; {@link #check} does. Its failures are {@link UnavailableException}s.
   */
  static ImageStore s3(S3Location where, S3Credentials credentials) {
    return new S3ImageStore(where, credentials);
  }

  /**
   * The store could not answer (no answer, refused access, a server error): the image is neither
   * known present nor known absent. The message is one line: the store, what failed, why, and what
   * to do; never a credential.
   */
  final class UnavailableException extends UncheckedIOException {
    private static final long serialVersionUID = 1L;

    public UnavailableException(String message, Throwable cause) {
      super(message, cause instanceof IOException io ? io : new IOException(message, cause));
    }
  }
}
