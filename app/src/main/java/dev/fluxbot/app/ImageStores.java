package dev.fluxbot.app;

import dev.fluxbot.core.Secret;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.imagestore.S3Credentials;
import dev.fluxbot.core.imagestore.S3Location;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the images live: pack files in {@code data_dir/images} (the default; one instance, or
 * instances on one machine), or one object per image in S3 ({@code storage.images_url:
 * s3://BUCKET/PREFIX}), which instances on several machines share. The environment's {@code
 * FLUXBOT_IMAGES_URL} and {@code FLUXBOT_S3_ENDPOINT} override the settings; the region is {@code
 * storage.s3_region}, else {@code AWS_REGION}, else {@code us-east-1}; the credentials are {@code
 * AWS_ACCESS_KEY_ID} and {@code AWS_SECRET_ACCESS_KEY} (and {@code AWS_SESSION_TOKEN}), else the
 * AWS SDK's default chain (the profile files, a container's or an instance's role).
 */
final class ImageStores {
  private ImageStores() {}

  // --- the settings' own rules, checked when the file is read ---

  static String checkedUrl(String field, String url) {
    if (url == null || url.isBlank()) {
      return null;
    }
    try {
      return S3Location.parse(url, null, null).url();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + ": " + e.getMessage() + whatToDo(field));
    }
  }

  static String checkedEndpoint(String field, String endpoint) {
    if (endpoint == null || endpoint.isBlank()) {
      return null;
    }
    try {
      return S3Location.endpoint(endpoint).toString();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          field + ": " + e.getMessage() + "; leave it out for AWS itself");
    }
  }

  static String checkedRegion(String field, String region) {
    if (region == null || region.isBlank()) {
      return null;
    }
    String r = region.strip();
    if (!r.matches("[a-z0-9][a-z0-9-]{0,62}")) {
      throw new IllegalArgumentException(
          field
              + ": must be a region name like us-east-1, eu-central-1 or auto (R2); got \""
              + region
              + "\"");
    }
    return r;
  }

  private static String whatToDo(String field) {
    return field.startsWith("FLUXBOT_")
        ? "; unset it to keep the images in the data folder"
        : "; leave it out to keep the images in the data folder";
  }

  // --- with the environment ---

  /**
   * The S3 location the settings and the environment name; empty for the local store.
   *
   * @throws FluxbotConfig.ConfigException naming the variable or setting, the rule and the value
   */
  static Optional<S3Location> s3(FluxbotConfig.Storage s, Environment env) {
    Optional<String> urlVar = env.get(Environment.IMAGES_URL);
    Optional<String> endpointVar = env.get(Environment.S3_ENDPOINT);
    String urlField = urlVar.isPresent() ? Environment.IMAGES_URL : "storage.images_url";
    String endpointField =
        endpointVar.isPresent() ? Environment.S3_ENDPOINT : "storage.s3_endpoint";
    try {
      String url = checkedUrl(urlField, urlVar.orElse(s.imagesUrl()));
      String endpoint = checkedEndpoint(endpointField, endpointVar.orElse(s.s3Endpoint()));
      String region =
          s.s3Region() != null
              ? s.s3Region()
              : checkedRegion(Environment.AWS_REGION, env.get(Environment.AWS_REGION).orElse(null));
      if (url == null) {
        if (endpoint != null || s.s3Region() != null) {
          throw new FluxbotConfig.ConfigException(
              (endpoint != null ? endpointField : "storage.s3_region")
                  + ": set, but the images are not in S3; set storage.images_url (or "
                  + Environment.IMAGES_URL
                  + ") to s3://BUCKET/PREFIX, or remove it");
        }
        return Optional.empty();
      }
      return Optional.of(
          S3Location.parse(url, endpoint == null ? null : URI.create(endpoint), region));
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException(e.getMessage());
    }
  }

  /**
   * The access key in the environment, else the SDK's default chain.
   *
   * @throws FluxbotConfig.ConfigException when only half of a key is set
   */
  static S3Credentials credentials(Environment env) {
    Optional<String> id = env.get(Environment.AWS_ACCESS_KEY_ID);
    Optional<String> secret = env.get(Environment.AWS_SECRET_ACCESS_KEY);
    if (id.isPresent() != secret.isPresent()) {
      throw new FluxbotConfig.ConfigException(
          (id.isPresent() ? Environment.AWS_SECRET_ACCESS_KEY : Environment.AWS_ACCESS_KEY_ID)
              + ": not set, but "
              + (id.isPresent() ? Environment.AWS_ACCESS_KEY_ID : Environment.AWS_SECRET_ACCESS_KEY)
              + " is; the S3 image store needs both (or neither, for the profile files)");
    }
    if (id.isEmpty()) {
      return S3Credentials.defaultChain();
    }
    return S3Credentials.of(
        id.get(),
        Secret.of(secret.get()),
        env.get(Environment.AWS_SESSION_TOKEN).map(Secret::of).orElse(null));
  }

  /** Where the credentials come from, for {@code doctor}: never the key. */
  static String credentialsSource(Environment env) {
    return credentials(env).isDefaultChain()
        ? "the AWS SDK's default chain (profile files, a container's or an instance's role)"
        : Environment.AWS_ACCESS_KEY_ID + " and " + Environment.AWS_SECRET_ACCESS_KEY;
  }

  /**
   * Opens the configured S3 store (it sends nothing yet), or returns empty for the local one.
   *
   * @throws FluxbotConfig.ConfigException for a setting or variable that breaks its rule
   */
  static Optional<ImageStore> openS3(FluxbotConfig.Storage s, Environment env) {
    Optional<S3Location> where = s3(s, env);
    if (where.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(ImageStore.s3(where.get(), credentials(env)));
  }

  /** The local store's folder. */
  static Path localFolder(Path dataDir) {
    return dataDir.resolve("images");
  }
}
