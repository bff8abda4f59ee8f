package dev.fluxbot.core;

import java.util.List;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * Picks the first backend that serves a request. When none does, the error lists each one tried
 * and why it declined, so an admin sees what to fix.
 */
public final class BackendRouter {
  private final List<ImageBackend> backends;

  public BackendRouter(List<ImageBackend> backends) {
    this.backends = List.copyOf(backends);
  }

  public List<ImageBackend> backends() {
    return backends;
  }

  /**
   * @throws UserError {@code BACKEND_UNAVAILABLE} naming every backend tried and its reason
   */
  public ImageBackend route(GenerationRequest request) {
    StringJoiner tried = new StringJoiner("; ");
    for (ImageBackend backend : backends) {
      Optional<String> refusal = backend.refusal(request);
      if (refusal.isEmpty()) {
        return backend;
      }
      tried.add(backend.name() + ": " + refusal.get());
    }
    if (backends.isEmpty()) {
      tried.add("none are configured");
    }
    throw new UserError(UserError.Code.BACKEND_UNAVAILABLE, "No image backend can run " + request.model().id()
        + " right now. Tried: " + tried + ".");
  }
}
