package dev.fluxbot.runtime.worker;

import java.io.IOException;

/** The worker broke off a request: the connection dropped or the stream ended without an answer. */
public final class WorkerLost extends IOException {
  private static final long serialVersionUID = 1L;

  public WorkerLost(String message) {
    super(message);
  }
}
