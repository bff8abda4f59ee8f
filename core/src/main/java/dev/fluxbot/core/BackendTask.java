package dev.fluxbot.core;

import java.util.Objects;

/**
 * A task a backend started and can be asked about again: stored with the job, so that after a
 * restart the backend picks it up where it was instead of starting (and billing) it twice.
 *
 * @param resumeUrl where the backend looks the task up (BFL's {@code polling_url}); may be null
 */
public record BackendTask(String backend, String taskId, String resumeUrl) {
  public BackendTask {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(taskId, "taskId");
  }
}
