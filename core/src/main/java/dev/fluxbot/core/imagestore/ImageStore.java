package dev.fluxbot.core.imagestore;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Content-addressed image bytes: an image's name is the lowercase hex SHA-256 of its bytes, so the
 * same image is stored once however many cache entries and jobs refer to it. Every method may block
 * on disk I/O; a hash that is not 64 lowercase hex digits is refused ({@link
 * IllegalArgumentException}) before anything is touched.
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
}
