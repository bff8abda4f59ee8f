package dev.fluxbot.core.seedcache;

import dev.fluxbot.core.imagestore.Hashes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A SHA-256 over a fixed sequence of typed fields, encoded so that no two different sequences share
 * bytes: numbers are fixed-width big-endian, text is its UTF-8 length then its bytes, an optional
 * value is a 0/1 byte then the value. The seed cache's fingerprint uses it.
 */
final class CanonicalHash {
  private final MessageDigest digest = Hashes.sha256();
  private final ByteBuffer scratch = ByteBuffer.allocate(Long.BYTES);

  public CanonicalHash text(String value) {
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    int32(utf8.length);
    digest.update(utf8);
    return this;
  }

  public CanonicalHash int32(int value) {
    digest.update(scratch.clear().putInt(value).array(), 0, Integer.BYTES);
    return this;
  }

  public CanonicalHash int64(long value) {
    digest.update(scratch.clear().putLong(value).array(), 0, Long.BYTES);
    return this;
  }

  public CanonicalHash optionalInt64(Long value) {
    digest.update((byte) (value == null ? 0 : 1));
    return value == null ? this : int64(value);
  }

  /** IEEE 754 bits (stable across JVMs, unlike decimal text), with -0.0 read as 0.0. */
  public CanonicalHash optionalFloat64(Double value) {
    return optionalInt64(value == null ? null : Double.doubleToLongBits(value + 0.0));
  }

  public String sha256Hex() {
    return HexFormat.of().formatHex(digest.digest());
  }
}
