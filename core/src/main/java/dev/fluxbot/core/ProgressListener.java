package dev.fluxbot.core;

import dev.fluxbot.core.backend.BackendTask;

/** Receives a job's progress. Called from the job's thread; must not block for long. */
@FunctionalInterface
public interface ProgressListener {
  ProgressListener NONE = p -> {};

  void onProgress(Progress progress);

  /** The backend started a task it can resume: store it before anything else can go wrong. */
  default void onTask(BackendTask task) {}
}
