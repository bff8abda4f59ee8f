package dev.fluxbot.core.imagestore;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/** SHA-256 in the one spelling fluxbot stores: 64 lowercase hex digits. */
public final class Hashes {
  private static final int HEX_LENGTH = 64;

  private Hashes() {}

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("SHA-256 is in every JDK", e);
    }
  }

  public static String sha256Hex(byte[] bytes) {
    return HexFormat.of().formatHex(sha256().digest(bytes));
  }

  public static boolean isSha256Hex(String value) {
    if (value == null || value.length() != HEX_LENGTH) {
      return false;
    }
    for (int i = 0; i < HEX_LENGTH; i++) {
      char ch = value.charAt(i);
      if (!(ch >= '0' && ch <= '9') && !(ch >= 'a' && ch <= 'f')) {
        return false;
      }
    }
    return true;
  }

  /** Returns {@code value}, or throws naming {@code field}, the rule and the value. */
  public static String requireSha256Hex(String field, String value) {
    Objects.requireNonNull(value, field);
    if (!isSha256Hex(value)) {
      throw new IllegalArgumentException(
          field
              + " must be 64 lowercase hex digits (a SHA-256); got \""
              + abbreviate(value)
              + "\"");
    }
    return value;
  }

  private static String abbreviate(String value) {
    return value.length() <= 80 ? value : value.substring(0, 77) + "...";
  }
}
