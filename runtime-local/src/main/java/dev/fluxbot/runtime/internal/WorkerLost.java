package dev.fluxbot.runtime.internal;

import java.io.IOException;

/** The worker broke off a request: the connection dropped or the stream ended without an answer. */
final class WorkerLost extends IOException {
  private static final long serialVersionUID = 1L;

  WorkerLost(String message) {
    super(message);
  }
}
