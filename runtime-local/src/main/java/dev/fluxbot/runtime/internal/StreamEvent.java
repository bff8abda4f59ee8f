package dev.fluxbot.runtime.internal;

/** A progress line of a {@code /v1/generate} stream. */
public sealed interface StreamEvent {
  /** Waiting at the worker; 0 is next. */
  record Queued(int position) implements StreamEvent {}

  /** Running, in a batch of {@code batch} requests. */
  record Started(int batch) implements StreamEvent {}

  /** Denoising step {@code step} of {@code steps} is done. */
  record Step(int step, int steps) implements StreamEvent {}
}
