package dev.fluxbot.core.imagestore;

import dev.fluxbot.core.Secret;
import java.util.Objects;

/**
 * How {@link ImageStore#s3} signs its requests: a given access key, or (with {@link
 * #defaultChain()}) whatever the AWS SDK's default chain finds: the {@code AWS_ACCESS_KEY_ID} and
 * {@code AWS_SECRET_ACCESS_KEY} variables, the profile files ({@code ~/.aws/credentials}, {@code
 * AWS_PROFILE}), a container's or an EC2 instance's role. {@code toString} never shows a secret.
 *
 * @param accessKeyId null for the default chain
 * @param secretAccessKey null exactly when {@code accessKeyId} is
 * @param sessionToken a temporary key's token, or null
 */
public record S3Credentials(String accessKeyId, Secret secretAccessKey, Secret sessionToken) {
  public S3Credentials {
    if ((accessKeyId == null) != (secretAccessKey == null)) {
      throw new IllegalArgumentException(
          "an access key needs both its id and its secret (or neither, for the default chain)");
    }
    if (accessKeyId == null && sessionToken != null) {
      throw new IllegalArgumentException("a session token needs an access key id and secret");
    }
    if (accessKeyId != null && accessKeyId.isBlank()) {
      throw new IllegalArgumentException("the access key id must not be blank");
    }
  }

  /** The AWS SDK's default chain. */
  public static S3Credentials defaultChain() {
    return new S3Credentials(null, null, null);
  }

  /** A given access key (and the session token of a temporary one, or null). */
  public static S3Credentials of(String accessKeyId, Secret secretAccessKey, Secret sessionToken) {
    Objects.requireNonNull(accessKeyId, "accessKeyId");
    Objects.requireNonNull(secretAccessKey, "secretAccessKey");
    return new S3Credentials(accessKeyId.strip(), secretAccessKey, sessionToken);
  }

  public boolean isDefaultChain() {
    return accessKeyId == null;
  }

  @Override
  public String toString() {
    return isDefaultChain() ? "S3Credentials[default chain]" : "S3Credentials[access key set]";
  }
}
