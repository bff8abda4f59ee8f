package dev.fluxbot.app;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Download links to a job's original image: {@code <public_url>/originals/<job id>?exp=<epoch
 * seconds>&sig=<HMAC-SHA256 of the job id and exp, base64url>}. Nobody can make one without the
 * key, or change the job or the expiry of one; each works until {@code exp}.
 */
final class SignedLinks {
  /** Below the public URL's own path. */
  static final String PATH = "/originals/";

  private static final String MAC = "HmacSHA256";

  /** What a presented link turned out to be. */
  enum Verdict {
    VALID,
    /** The signature does not match the job and expiry: made up, changed, or cut short. */
    FORGED,
    /** Signed by us, but its time is over. */
    EXPIRED
  }

  private final SecretKeySpec key;
  private final dev.fluxbot.core.Secret webhookSecret;
  private final String publicUrl;
  private final Duration life;
  private final InstantSource clock;

  /**
   * @param publicUrl without a trailing slash, as {@link FluxbotConfig.Web} keeps it
   */
  SignedLinks(byte[] key, String publicUrl, Duration life, InstantSource clock) {
    if (key.length < 32) {
      throw new IllegalArgumentException(
          "the link key must be at least 32 bytes; got " + key.length);
    }
    this.key = new SecretKeySpec(key, MAC);
    this.webhookSecret = dev.fluxbot.core.bfl.BflWebhooks.deriveSecret(key);
    this.publicUrl = Objects.requireNonNull(publicUrl, "publicUrl");
    this.life = Objects.requireNonNull(life, "life");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  Duration life() {
    return life;
  }

  /** The path the server answers below: the public URL's own path, then {@link #PATH}. */
  /** The {@code webhook_secret} for BFL's calls, derived from the same key. */
  dev.fluxbot.core.Secret webhookSecret() {
    return webhookSecret;
  }

  String basePath() {
    String path = URI.create(publicUrl).getRawPath();
    return (path == null ? "" : path) + PATH;
  }

  /** A link to {@code jobId}'s original that works for {@link #life()} from now. */
  URI linkFor(String jobId) {
    long exp = clock.instant().plus(life).getEpochSecond();
    return URI.create(publicUrl + PATH + jobId + "?exp=" + exp + "&sig=" + sign(jobId, exp));
  }

  /** Checks a presented job id, {@code exp} and {@code sig} (each as received, possibly null). */
  Verdict check(String jobId, String exp, String sig) {
    if (jobId == null || exp == null || sig == null || !exp.matches("[0-9]{1,12}")) {
      return Verdict.FORGED;
    }
    long seconds = Long.parseLong(exp);
    byte[] expected = sign(jobId, seconds).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(expected, sig.getBytes(StandardCharsets.US_ASCII))) {
      return Verdict.FORGED;
    }
    return clock.instant().isBefore(Instant.ofEpochSecond(seconds))
        ? Verdict.VALID
        : Verdict.EXPIRED;
  }

  private String sign(String jobId, long exp) {
    try {
      Mac mac = Mac.getInstance(MAC);
      mac.init(key);
      byte[] sig =
          mac.doFinal(("fluxbot original\n" + jobId + "\n" + exp).getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available in this JVM", e);
    }
  }
}
