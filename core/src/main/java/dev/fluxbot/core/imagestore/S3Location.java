package dev.fluxbot.core.imagestore;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Objects;

/**
 * Where {@link ImageStore#s3} keeps images: one object per image, {@code PREFIX/<sha256>}, in
 * {@code bucket}, on AWS or on any server that speaks S3 (MinIO, Ceph RGW, Cloudflare R2, Garage…)
 * at {@code endpoint}. Every part is checked here; a broken rule is an {@link
 * IllegalArgumentException} saying the rule and the value (the caller names the setting).
 *
 * @param bucket the bucket: 3 to 63 lowercase letters, digits, dots and hyphens, starting and
 *     ending with a letter or digit
 * @param prefix the folder of the images inside the bucket, without leading or trailing slashes;
 *     empty: the bucket's root
 * @param endpoint the server, {@code http(s)://HOST[:PORT]}, addressed path-style ({@code
 *     endpoint/bucket/key}); null: AWS itself, addressed as AWS wants
 * @param region the region requests are signed for; null: {@value #DEFAULT_REGION}
 */
public record S3Location(String bucket, String prefix, URI endpoint, String region) {
  /** The region when none is set (what most S3-compatible servers accept). */
  public static final String DEFAULT_REGION = "us-east-1";

  public S3Location {
    Objects.requireNonNull(bucket, "bucket");
    prefix = prefix == null ? "" : prefix;
    region = region == null || region.isBlank() ? DEFAULT_REGION : region.strip();
    checkBucket(bucket);
    checkPrefix(prefix);
    endpoint = endpoint == null ? null : checkEndpoint(endpoint.toString());
    if (!region.matches("[a-z0-9][a-z0-9-]{0,62}")) {
      throw new IllegalArgumentException(
          "must be a region name like us-east-1, eu-central-1 or auto; got \"" + region + "\"");
    }
  }

  /**
   * Reads {@code s3://BUCKET/PREFIX} (or {@code s3://BUCKET} for the bucket's root).
   *
   * @throws IllegalArgumentException saying what is wrong and the form expected
   */
  public static S3Location parse(String url, URI endpoint, String region) {
    Objects.requireNonNull(url, "url");
    String text = url.strip();
    if (!text.regionMatches(true, 0, "s3://", 0, 5)) {
      throw new IllegalArgumentException(
          "must be s3://BUCKET/PREFIX, e.g. s3://my-bucket/fluxbot/images; got \"" + url + "\"");
    }
    String rest = text.substring(5);
    if (rest.contains("?") || rest.contains("#")) {
      throw new IllegalArgumentException(
          "must be s3://BUCKET/PREFIX without a query or fragment, e.g. "
              + "s3://my-bucket/fluxbot/images; got \""
              + url
              + "\"");
    }
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    String prefix = slash < 0 ? "" : rest.substring(slash + 1);
    while (prefix.endsWith("/")) {
      prefix = prefix.substring(0, prefix.length() - 1);
    }
    try {
      return new S3Location(bucket, prefix, endpoint, region);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + " (in \"" + url + "\")", e);
    }
  }

  /**
   * Checks an endpoint: {@code http(s)://HOST[:PORT]}, nothing after the port.
   *
   * @throws IllegalArgumentException saying what is wrong and the form expected
   */
  public static URI endpoint(String text) {
    Objects.requireNonNull(text, "text");
    return checkEndpoint(text.strip());
  }

  private static URI checkEndpoint(String text) {
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      uri = null;
    }
    String scheme = uri == null || uri.getScheme() == null ? "" : uri.getScheme();
    boolean bare =
        uri != null
            && (uri.getRawPath() == null
                || uri.getRawPath().isEmpty()
                || "/".equals(uri.getRawPath()))
            && uri.getRawQuery() == null
            && uri.getRawFragment() == null
            && uri.getRawUserInfo() == null;
    if (uri == null
        || uri.getHost() == null
        || !bare
        || !("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))) {
      throw new IllegalArgumentException(
          "must be the S3 server's http(s)://HOST[:PORT], e.g. http://127.0.0.1:9000 (MinIO) or "
              + "https://ACCOUNT.r2.cloudflarestorage.com, with no path or credentials; got \""
              + text
              + "\"");
    }
    return URI.create(scheme.toLowerCase(Locale.ROOT) + "://" + uri.getRawAuthority());
  }

  private static void checkBucket(String bucket) {
    if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      throw new IllegalArgumentException(
          "the bucket must be 3 to 63 lowercase letters, digits, dots and hyphens, starting and "
              + "ending with a letter or digit; got \""
              + bucket
              + "\"");
    }
  }

  private static void checkPrefix(String prefix) {
    if (prefix.isEmpty()) {
      return;
    }
    for (String part : prefix.split("/", -1)) {
      if (part.isEmpty() || part.equals(".") || part.equals("..")) {
        throw new IllegalArgumentException(
            "the prefix must be folder names separated by single slashes, none of them . or ..; "
                + "got \""
                + prefix
                + "\"");
      }
    }
    if (!prefix.matches("[A-Za-z0-9!_.*'()/-]{1,512}")) {
      throw new IllegalArgumentException(
          "the prefix may hold letters, digits and ! _ . * ' ( ) - / only (the characters every S3"
              + " tool takes as they are), at most 512; got \""
              + prefix
              + "\"");
    }
  }

  /** The object that holds the image named {@code hash}. */
  public String key(String hash) {
    return prefix.isEmpty() ? hash : prefix + "/" + hash;
  }

  /** {@code s3://bucket/prefix}. */
  public String url() {
    return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
  }

  /** Where, for messages: {@code s3://bucket/prefix at ENDPOINT (region R)}; never a credential. */
  public String describe() {
    return url() + " at " + (endpoint == null ? "AWS" : endpoint.toString()) + " (" + region + ")";
  }

  @Override
  public String toString() {
    return describe();
  }
}
