package dev.fluxbot.core.model;

import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A reference image after loading: checked, at most 4 MP, ready to send as base64.
 *
 * @param sha256 hex SHA-256 of {@code bytes}: the content hash the seed cache fingerprints
 */
public record ReferenceImage(
    String label, ImageType type, int width, int height, byte[] bytes, String sha256) {
  public ReferenceImage {
    Objects.requireNonNull(label, "label");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(bytes, "bytes");
    Objects.requireNonNull(sha256, "sha256");
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException(
          "width and height must be positive: " + width + "x" + height);
    }
  }

  /** Raw base64 without a {@code data:} prefix, as BFL's {@code input_image} takes it. */
  public String base64() {
    return Base64.getEncoder().encodeToString(bytes);
  }

  public long pixels() {
    return (long) width * height;
  }

  static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of()
          .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError("SHA-256 is in every JDK", e);
    }
  }

  /** Builds one from checked bytes, computing the hash. */
  public static ReferenceImage of(
      String label, ImageType type, int width, int height, byte[] bytes) {
    return new ReferenceImage(label, type, width, height, bytes, sha256Hex(bytes));
  }

  @Override
  public String toString() {
    return "ReferenceImage["
        + label
        + ", "
        + type
        + " "
        + width
        + "x"
        + height
        + ", "
        + bytes.length
        + " bytes]";
  }
}
