package dev.fluxbot.core.backend;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * A task a backend started and can be asked about again: stored with the job, so that after a
 * restart the backend picks it up where it was instead of starting (and billing) it twice.
 *
 * @param resumeUrl where the backend looks the task up (BFL's {@code polling_url}); may be null
 * @param cost the credits the backend said the task costs when it took it (BFL says so only then);
 *     null where it did not say
 */
public record BackendTask(String backend, String taskId, String resumeUrl, BigDecimal cost) {
  public BackendTask {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(taskId, "taskId");
  }

  /** A task whose cost the backend did not state. */
  public BackendTask(String backend, String taskId, String resumeUrl) {
    this(backend, taskId, resumeUrl, null);
  }
}
