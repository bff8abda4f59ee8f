package dev.fluxbot.testkit.bfl;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signed, expiring result URLs on the delivery host: {@code
 * /results/<id>/sample.<ext>?exp=<epochMillis>&sig=<HMAC-SHA256 of path and exp>}.
 */
final class DeliveryLinks {
  private final String baseUrl;
  private final SecretKeySpec key;
  private volatile Duration ttl;

  DeliveryLinks(String baseUrl, Duration ttl) {
    this.baseUrl = baseUrl;
    this.ttl = requirePositive(ttl);
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    this.key = new SecretKeySpec(secret, "HmacSHA256");
  }

  void setTtl(Duration ttl) {
    this.ttl = requirePositive(ttl);
  }

  String create(String taskId, String format, Instant now) {
    String path = "/results/" + taskId + "/sample." + format;
    long expires = now.plus(ttl).toEpochMilli();
    return baseUrl + path + "?exp=" + expires + "&sig=" + sign(path, expires);
  }

  boolean verify(String path, long expiresAtMillis, String signature) {
    byte[] expected = sign(path, expiresAtMillis).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII));
  }

  private String sign(String path, long expiresAtMillis) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      byte[] digest =
          mac.doFinal((path + "?exp=" + expiresAtMillis).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable", e);
    }
  }

  private static Duration requirePositive(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException(
          "The delivery URL lifetime must be positive. Provided: " + ttl);
    }
    return ttl;
  }
}
