package dev.fluxbot.core.imagestore;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * {@link ImageStore#s3}: one object per image, {@code PREFIX/<sha256>}, holding exactly the image's
 * bytes, so any S3 tool can read, copy and back the images up. Several bot instances share it.
 *
 * <p>A read answers "absent" only when the server says the object is not there (404 {@code
 * NoSuchKey}); anything else (no answer, a 5xx, refused access, a missing bucket, an object whose
 * bytes do not match its name) throws {@link ImageStore.UnavailableException}. The seed cache drops
 * an entry whose image is absent, so a store that cannot answer must never look empty.
 *
 * <p>{@code put} asks first (HEAD) and uploads only an image that is not there: a HEAD is a few
 * hundred bytes where an upload is the whole image, and the pipeline puts the same image again
 * (every job's references; the seed cache's check under its lock), while a new image costs one
 * round trip more than a bare PUT, milliseconds next to the seconds it took to make. Two instances
 * that upload the same image at once write the same bytes; S3 keeps one whole object. The upload
 * carries its MD5 ({@code Content-MD5}), so the server refuses bytes damaged on the way, and its
 * media type from the image's first bytes (JPEG, PNG or WebP).
 *
 * <p>Requests go through the JDK's {@code HttpURLConnection} (the SDK's {@code
 * url-connection-client}: no Netty, no Apache client), path-style when an endpoint is set, with the
 * SDK's retries of throttling, 5xx and network errors; a connection gets {@link #CONNECT_TIMEOUT},
 * a silent socket {@link #SOCKET_TIMEOUT}, a whole call (retries included) {@link #CALL_TIMEOUT}.
 * Checksums are sent and checked only where S3 requires them, which every S3-compatible server
 * understands; the bytes read are checked against their name instead.
 */
final class S3ImageStore implements ImageStore {
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(120);

  private final S3Location where;
  private final AwsCredentialsProvider credentials;
  private final SdkHttpClient http;
  private final S3Client s3;

  S3ImageStore(S3Location where, S3Credentials credentials) {
    this.where = Objects.requireNonNull(where, "where");
    this.credentials = provider(Objects.requireNonNull(credentials, "credentials"));
    this.http =
        UrlConnectionHttpClient.builder()
            .connectionTimeout(CONNECT_TIMEOUT)
            .socketTimeout(SOCKET_TIMEOUT)
            .build();
    S3ClientBuilder builder =
        S3Client.builder()
            .httpClient(http)
            .region(Region.of(where.region()))
            .credentialsProvider(this.credentials)
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            // the body is in memory: signed whole, not sent in aws-chunked pieces, which some
            // S3-compatible servers store as the object's Content-Encoding or refuse
            .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
            .overrideConfiguration(c -> c.apiCallTimeout(CALL_TIMEOUT));
    if (where.endpoint() != null) {
      builder.endpointOverride(where.endpoint()).forcePathStyle(true);
    }
    this.s3 = builder.build();
  }

  private static AwsCredentialsProvider provider(S3Credentials c) {
    if (c.isDefaultChain()) {
      return DefaultCredentialsProvider.builder().build();
    }
    return StaticCredentialsProvider.create(
        c.sessionToken() == null
            ? AwsBasicCredentials.create(c.accessKeyId(), c.secretAccessKey().reveal())
            : AwsSessionCredentials.create(
                c.accessKeyId(), c.secretAccessKey().reveal(), c.sessionToken().reveal()));
  }

  // --- the ImageStore operations ---

  @Override
  public String put(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    String hash = Hashes.sha256Hex(bytes);
    if (hasImage(hash, "store image")) {
      return hash;
    }
    upload(where.key(hash), bytes, "store image " + hash);
    return hash;
  }

  @Override
  public Optional<byte[]> get(String hash) {
    Hashes.requireSha256Hex("image hash", hash);
    Optional<byte[]> bytes = download(where.key(hash), "read image " + hash);
    if (bytes.isPresent() && !Hashes.sha256Hex(bytes.get()).equals(hash)) {
      throw new UnavailableException(
          prefix("read image " + hash)
              + "the object holds "
              + bytes.get().length
              + " bytes that are not the image its name says (written by something else?); "
              + "remove or replace the object "
              + where.key(hash),
          null);
    }
    return bytes;
  }

  @Override
  public boolean delete(String hash) {
    Hashes.requireSha256Hex("image hash", hash);
    if (!hasImage(hash, "delete image")) {
      return false;
    }
    remove(where.key(hash), "delete image " + hash);
    return true;
  }

  @Override
  public boolean contains(String hash) {
    Hashes.requireSha256Hex("image hash", hash);
    return hasImage(hash, "look up image");
  }

  /**
   * Writes, reads back and deletes a small object ({@code PREFIX/fluxbot-check-<random>}, never an
   * image's name): what the bot needs of the bucket, checked before it takes work.
   */
  @Override
  public void check() {
    String key = where.key("fluxbot-check-" + UUID.randomUUID());
    byte[] probe =
        ("fluxbot checks that it can write, read and delete here; " + key)
            .getBytes(StandardCharsets.UTF_8);
    upload(key, probe, "write a test object");
    Optional<byte[]> back = download(key, "read back a test object");
    if (back.isEmpty() || !Arrays.equals(back.get(), probe)) {
      throw new UnavailableException(
          prefix("read back a test object")
              + (back.isEmpty()
                  ? "it is not there right after it was written"
                  : "it came back changed")
              + "; the server does not keep what it is given",
          null);
    }
    remove(key, "delete a test object");
    // a missing object must read as missing: without s3:ListBucket, AWS answers 403, not 404
    if (exists(key, "look up a deleted test object")) {
      throw new UnavailableException(
          prefix("delete a test object") + "it is still there after its delete", null);
    }
  }

  @Override
  public void close() {
    s3.close(); // closes neither the HTTP client nor the credentials it was given
    http.close();
    if (credentials instanceof AutoCloseable chain) { // the default chain's refresh threads
      try {
        chain.close();
      } catch (Exception e) {
        // nothing held that outlives the process
      }
    }
  }

  @Override
  public String toString() {
    return "ImageStore[" + where.describe() + ", objects]";
  }

  // --- the requests ---

  private boolean hasImage(String hash, String what) {
    return exists(where.key(hash), what + " " + hash);
  }

  private boolean exists(String key, String what) {
    try {
      s3.headObject(r -> r.bucket(where.bucket()).key(key));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    } catch (S3Exception e) {
      // A HEAD's 404 has no body to name its error, so a missing bucket reads as absent here; no
      // caller deletes anything because contains() said false, and the put that follows fails.
      if (e.statusCode() == 404) {
        return false;
      }
      throw failure(what, e);
    } catch (SdkException e) {
      throw failure(what, e);
    }
  }

  private void upload(String key, byte[] bytes, String what) {
    try {
      s3.putObject(
          r ->
              r.bucket(where.bucket())
                  .key(key)
                  .contentLength((long) bytes.length)
                  .contentType(contentType(bytes))
                  .contentMD5(md5(bytes)),
          RequestBody.fromBytes(bytes));
    } catch (SdkException e) {
      throw failure(what, e);
    }
  }

  private Optional<byte[]> download(String key, String what) {
    try {
      return Optional.of(
          s3.getObjectAsBytes(r -> r.bucket(where.bucket()).key(key)).asByteArrayUnsafe());
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    } catch (S3Exception e) {
      if (e.statusCode() == 404 && "NoSuchKey".equals(S3Failures.code(e))) {
        return Optional.empty();
      }
      throw failure(what, e);
    } catch (SdkException e) {
      throw failure(what, e);
    }
  }

  private void remove(String key, String what) {
    try {
      s3.deleteObject(r -> r.bucket(where.bucket()).key(key));
    } catch (NoSuchKeyException e) {
      // gone already: what a delete wants
    } catch (SdkException e) {
      throw failure(what, e);
    }
  }

  private String prefix(String what) {
    return "image store " + where.describe() + ": cannot " + what + ": ";
  }

  private UnavailableException failure(String what, SdkException e) {
    return new UnavailableException(prefix(what) + S3Failures.why(where, e), e);
  }

  // --- helpers ---

  /**
   * The media type the first bytes show: JPEG, PNG or WebP, else {@code application/octet-stream}.
   */
  static String contentType(byte[] b) {
    if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
      return "image/jpeg";
    }
    if (b.length >= 8
        && (b[0] & 0xff) == 0x89
        && b[1] == 'P'
        && b[2] == 'N'
        && b[3] == 'G'
        && b[4] == '\r'
        && b[5] == '\n'
        && (b[6] & 0xff) == 0x1a
        && b[7] == '\n') {
      return "image/png";
    }
    if (b.length >= 12
        && b[0] == 'R'
        && b[1] == 'I'
        && b[2] == 'F'
        && b[3] == 'F'
        && b[8] == 'W'
        && b[9] == 'E'
        && b[10] == 'B'
        && b[11] == 'P') {
      return "image/webp";
    }
    return "application/octet-stream";
  }

  private static String md5(byte[] bytes) {
    try {
      return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("MD5 is in every JDK", e);
    }
  }
}
