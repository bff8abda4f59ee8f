package dev.fluxbot.app;

import dev.fluxbot.core.store.Owner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * {@code instance:} in {@code fluxbot.yaml}: which bot instance this is when several share one
 * PostgreSQL database.
 *
 * @param id the instance's name (env {@code FLUXBOT_INSTANCE_ID}); it owns the jobs it starts, and
 *     a restarted instance with the same id takes its own jobs back at once. Default: {@code local}
 *     on SQLite (one bot per database file), and on PostgreSQL the host name with a short hash of
 *     the data folder, so that instances on one machine with their own data folders differ
 * @param leaseSeconds how long a job stays an instance's after its last heartbeat, 5 to 60 (default
 *     30): another instance takes a dead one's jobs over about this long after it died
 */
public record InstanceSettings(String id, Integer leaseSeconds) {
  static final InstanceSettings DEFAULTS = new InstanceSettings(null, null);

  public InstanceSettings {
    leaseSeconds = leaseSeconds == null ? (int) Owner.DEFAULT_LEASE.toSeconds() : leaseSeconds;
    if (leaseSeconds < 5 || leaseSeconds > Owner.MAX_LEASE.toSeconds()) {
      throw new FluxbotConfig.ConfigException(
          "instance.lease_seconds: must be from 5 to "
              + Owner.MAX_LEASE.toSeconds()
              + "; got "
              + leaseSeconds
              + ". Leave it out for the default (30)");
    }
  }

  /**
   * The owner {@code run} acts as.
   *
   * @param envId {@code FLUXBOT_INSTANCE_ID}, or null
   * @param shared whether the database is shared (PostgreSQL)
   */
  Owner owner(String envId, boolean shared, Path dataDir) {
    String chosen = envId != null && !envId.isBlank() ? envId.strip() : id;
    if (chosen == null) {
      chosen = shared ? Owner.host() + "-" + shortHash(dataDir) : "local";
    }
    try {
      return new Owner(chosen, Duration.ofSeconds(leaseSeconds));
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException(e.getMessage());
    }
  }

  private static String shortHash(Path dataDir) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(
                  dataDir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 3);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
    }
  }
}
