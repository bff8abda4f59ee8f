package dev.fluxbot.core;

import dev.fluxbot.core.cache.DiskImageStore;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Content-addressed image bytes: an image's name is the lowercase hex SHA-256 of its bytes, so
 * the same image is stored once however many cache entries and jobs refer to it. Every method
 * may block on disk I/O; a hash that is not 64 lowercase hex digits is refused
 * ({@link IllegalArgumentException}) before anything is touched.
 */
public interface ImageStore {
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

  /** The production store: {@code dir/ab/cdef…} (first two hex digits as the folder), created as needed. */
  static ImageStore onDisk(Path dir) {
    return new DiskImageStore(dir);
  }
}
