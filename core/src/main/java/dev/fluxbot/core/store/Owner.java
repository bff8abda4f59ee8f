package dev.fluxbot.core.store;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The process that owns the jobs it creates or takes over, and how long its claim on a job lasts
 * without a heartbeat. Another instance takes a job over only once its lease has run out.
 *
 * @param id the instance id: 1 to 64 letters, digits, {@code . _ : -}; stable across restarts for a
 *     bot (a restarted instance takes its own jobs back at once), unique per process for one-shot
 *     commands
 * @param lease how long a job stays this process's after its last heartbeat (at most 60 s)
 */
public record Owner(String id, Duration lease) {
  /** The default lease: a dead instance's jobs are taken over about this long after it died. */
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);

  /** The longest lease allowed. */
  public static final Duration MAX_LEASE = Duration.ofSeconds(60);

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

  public Owner {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(lease, "lease");
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          "instance id: must be 1 to 64 letters, digits, '.', '_', ':' or '-'; got '"
              + id
              + "'. Set instance.id (or FLUXBOT_INSTANCE_ID) to such a name.");
    }
    if (lease.compareTo(Duration.ofSeconds(1)) < 0 || lease.compareTo(MAX_LEASE) > 0) {
      throw new IllegalArgumentException(
          "lease: must be between 1 s and " + MAX_LEASE.toSeconds() + " s; got " + lease + ".");
    }
  }

  /** The single-instance default: one bot, id {@code local}. */
  public static Owner local() {
    return new Owner("local", DEFAULT_LEASE);
  }

  /**
   * An owner for one process only: {@code <kind>-<host>-<pid>}, for a one-shot command beside a
   * running bot (it must never take the bot's jobs for its own).
   */
  public static Owner oneShot(String kind) {
    String id = kind + "-" + host() + "-" + ProcessHandle.current().pid();
    return new Owner(id.length() > 64 ? id.substring(id.length() - 64) : id, DEFAULT_LEASE);
  }

  /** This machine's name, cut to what an instance id may hold ({@code host} if it has none). */
  public static String host() {
    String name;
    try {
      name = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      name = "host";
    }
    name = name.replaceAll("[^A-Za-z0-9._-]", "-");
    return name.isEmpty() ? "host" : name.substring(0, Math.min(name.length(), 40));
  }

  long leaseMillis() {
    return lease.toMillis();
  }
}
