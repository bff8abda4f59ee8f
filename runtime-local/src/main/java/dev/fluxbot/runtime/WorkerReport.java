package dev.fluxbot.runtime;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;

/**
 * One worker as the runtime last saw it.
 *
 * @param health what its {@code /v1/health} said last; null where it never answered
 * @param problem why it cannot take jobs now ("not answering (connection refused)"); null when
 *     healthy
 * @param inFlight jobs this fluxbot is running on it now
 */
public record WorkerReport(URI url, WorkerHealth health, String problem, int inFlight) {
  public WorkerReport {
    Objects.requireNonNull(url, "url");
  }

  public boolean healthy() {
    return problem == null && health != null && health.ok();
  }

  public Optional<WorkerHealth> lastHealth() {
    return Optional.ofNullable(health);
  }
}
