package dev.fluxbot.app;

import dev.fluxbot.core.Secret;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The process environment, read in one place: secrets, base URLs, the config path. */
record Environment(Map<String, String> vars) {
  static final String BFL_API_KEY = "BFL_API_KEY";
  static final String BFL_BASE_URL = "FLUXBOT_BFL_BASE_URL";
  static final String CONFIG = "FLUXBOT_CONFIG";

  /** The data folder: overrides {@code storage.data_dir} (the container's entrypoint sets it). */
  static final String DATA_DIR = "FLUXBOT_DATA_DIR";

  /** Comma-separated klein worker URLs: replaces {@code local.workers}. */
  static final String LOCAL_WORKERS = "FLUXBOT_LOCAL_WORKERS";

  static final String DATABASE_URL = "FLUXBOT_DATABASE_URL";
  static final String INSTANCE_ID = "FLUXBOT_INSTANCE_ID";
  static final String DISCORD_TOKEN = "FLUXBOT_DISCORD_TOKEN";
  static final String DISCORD_REST_URL = "FLUXBOT_DISCORD_REST_URL";
  static final String DISCORD_GATEWAY_URL = "FLUXBOT_DISCORD_GATEWAY_URL";
  static final String DISCORD_SHARDS_TOTAL = "FLUXBOT_DISCORD_SHARDS_TOTAL";
  static final String DISCORD_SHARD_IDS = "FLUXBOT_DISCORD_SHARD_IDS";
  static final String DATABASE_PASSWORD = "FLUXBOT_DATABASE_PASSWORD";

  /** Comma-separated hosts or networks that references may come from although not public. */
  static final String REFERENCES_PERMITTED_HOSTS = "FLUXBOT_REFERENCES_PERMITTED_HOSTS";

  /** The key that signs download links of the web server; else one is kept in the data folder. */
  static final String WEB_SECRET = "FLUXBOT_WEB_SECRET";

  /** {@code s3://BUCKET/PREFIX}: overrides {@code storage.images_url}. */
  static final String IMAGES_URL = "FLUXBOT_IMAGES_URL";

  /** An S3-compatible server: overrides {@code storage.s3_endpoint}. */
  static final String S3_ENDPOINT = "FLUXBOT_S3_ENDPOINT";

  /** The AWS tools' own variables, read for the S3 image store. */
  static final String AWS_REGION = "AWS_REGION";

  static final String AWS_ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID";
  static final String AWS_SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY";
  static final String AWS_SESSION_TOKEN = "AWS_SESSION_TOKEN";

  /** The operations listener's {@code HOST:PORT}, or {@code off}: overrides {@code ops.listen}. */
  static final String OPS_LISTEN = "FLUXBOT_OPS_LISTEN";

  static final String TELEGRAM_TOKEN = "FLUXBOT_TELEGRAM_TOKEN";
  static final String TELEGRAM_API_URL = "FLUXBOT_TELEGRAM_API_URL";
  static final String TELEGRAM_WEBHOOK_SECRET = "FLUXBOT_TELEGRAM_WEBHOOK_SECRET";

  Environment {
    vars = Map.copyOf(vars);
  }

  static Environment system() {
    return new Environment(System.getenv());
  }

  Optional<String> get(String name) {
    String v = vars.get(name);
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
  }

  /**
   * The settings of {@code fluxbot.yaml} that variables override, by path ({@code
   * storage.data_dir}): what a container or a service sets without writing a config file.
   */
  Map<String, Object> configOverrides() {
    Map<String, Object> overrides = new LinkedHashMap<>();
    get(DATA_DIR).ifPresent(v -> overrides.put("storage.data_dir", v));
    get(LOCAL_WORKERS)
        .ifPresent(
            v ->
                overrides.put(
                    "local.workers",
                    Arrays.stream(v.split(","))
                        .map(String::strip)
                        .filter(w -> !w.isEmpty())
                        .toList()));
    return overrides;
  }

  /** A secret from the environment, else from the file a setting names; empty if neither is set. */
  Optional<Secret> secret(String variable, String file, String setting) {
    Optional<String> env = get(variable);
    if (env.isPresent()) {
      return env.map(Secret::of);
    }
    if (file == null) {
      return Optional.empty();
    }
    try {
      String text = Files.readString(Path.of(file));
      return text.isBlank() ? Optional.empty() : Optional.of(Secret.of(text));
    } catch (IOException e) {
      throw new FluxbotConfig.ConfigException(
          setting
              + ": cannot read "
              + file
              + " ("
              + e.getClass().getSimpleName()
              + "); fix the path or set "
              + variable
              + " instead.");
    }
  }

  /** The BFL key: {@code BFL_API_KEY}, else the file {@code bfl.api_key_file} names. */
  Optional<Secret> bflKey(FluxbotConfig config) {
    return secret(BFL_API_KEY, config.bfl().apiKeyFile(), "bfl.api_key_file");
  }
}
