package dev.fluxbot.core.imagestore;

import java.io.IOException;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Why an S3 request failed, in one line that says what to do: no answer, refused credentials or
 * access, a missing bucket, the wrong region, or the server's own error. Never a credential.
 */
final class S3Failures {
  private static final Set<String> BAD_CREDENTIALS =
      Set.of(
          "InvalidAccessKeyId",
          "SignatureDoesNotMatch",
          "InvalidToken",
          "ExpiredToken",
          "InvalidSecurity",
          "TokenRefreshRequired");
  private static final Set<String> WRONG_REGION =
      Set.of(
          "PermanentRedirect",
          "AuthorizationHeaderMalformed",
          "IllegalLocationConstraintException");

  private S3Failures() {}

  /** The S3 error code the server sent, or "" (a HEAD's error has no body). */
  static String code(S3Exception e) {
    AwsErrorDetails d = e.awsErrorDetails();
    return d == null || d.errorCode() == null ? "" : d.errorCode();
  }

  static String why(S3Location where, SdkException e) {
    if (e instanceof S3Exception s) {
      return answered(where, s);
    }
    if (e instanceof ApiCallTimeoutException) {
      return "no answer within "
          + S3ImageStore.CALL_TIMEOUT.toSeconds()
          + " s; check that the server at "
          + endpoint(where)
          + " is up and reachable";
    }
    String message = firstLine(e.getMessage());
    if (message.contains("Unable to load credentials")) {
      return "found no credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE "
          + "and ~/.aws/credentials)";
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IOException io) {
        return "the server at "
            + endpoint(where)
            + " did not answer ("
            + network(io)
            + "); check that it is up and reachable (storage.s3_endpoint, FLUXBOT_S3_ENDPOINT)";
      }
    }
    return firstLine(e.getClass().getSimpleName() + ": " + message);
  }

  private static String answered(S3Location where, S3Exception e) {
    String code = code(e);
    int status = e.statusCode();
    String said = "HTTP " + status + (code.isEmpty() ? "" : " " + code);
    if ("NoSuchBucket".equals(code)) {
      return "the bucket "
          + where.bucket()
          + " does not exist ("
          + said
          + "); create it, or fix the bucket in storage.images_url (FLUXBOT_IMAGES_URL)";
    }
    if (BAD_CREDENTIALS.contains(code)) {
      return "the server does not accept the credentials ("
          + said
          + "); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the profile in "
          + "~/.aws/credentials)";
    }
    if (WRONG_REGION.contains(code) || status == 301) {
      return "the bucket is in another region than "
          + where.region()
          + " ("
          + said
          + "); set storage.s3_region (or AWS_REGION) to the bucket's region";
    }
    if (status == 403 || "AccessDenied".equals(code)) {
      return "access denied ("
          + said
          + "); the credentials need s3:GetObject, s3:PutObject and s3:DeleteObject on "
          + where.url()
          + "/*, and s3:ListBucket on the bucket (without it a missing image answers 403, not 404)";
    }
    String message =
        e.awsErrorDetails() == null || e.awsErrorDetails().errorMessage() == null
            ? ""
            : ": " + firstLine(e.awsErrorDetails().errorMessage());
    return "the server answered " + said + message + (status >= 500 ? "; try again later" : "");
  }

  /** What went wrong on the network, in words: no exception's name. */
  private static String network(IOException e) {
    return switch (e) {
      case java.net.ConnectException c -> "connection refused";
      case java.net.UnknownHostException u -> "unknown host " + u.getMessage();
      case java.net.SocketTimeoutException t -> "timed out";
      case javax.net.ssl.SSLException t -> "TLS failed: " + firstLine(t.getMessage());
      default -> e.getMessage() == null ? e.getClass().getSimpleName() : firstLine(e.getMessage());
    };
  }

  private static String endpoint(S3Location where) {
    return where.endpoint() == null
        ? "s3." + where.region() + ".amazonaws.com"
        : where.endpoint().toString();
  }

  private static String firstLine(String text) {
    if (text == null) {
      return "";
    }
    String t = text.strip();
    int end = t.indexOf('\n');
    String line = end < 0 ? t : t.substring(0, end).strip();
    return line.length() <= 300 ? line : line.substring(0, 297) + "...";
  }
}
