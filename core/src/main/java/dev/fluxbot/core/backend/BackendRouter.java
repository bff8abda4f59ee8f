package dev.fluxbot.core.backend;

import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.GenerationRequest;
import java.util.List;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * Picks the first backend that serves a request. When none does, the error lists each one tried and
 * why it declined, so an admin sees what to fix.
 *
 * <p>A backend that implements {@link Claiming} keeps the requests it claims to itself: when it
 * declines one of them, no later backend is asked and its reason leads the error (a local runtime
 * that is down, where falling back to a paid API is not allowed).
 */
public final class BackendRouter {
  private final List<ImageBackend> backends;

  /**
   * A backend that owns some requests: when it refuses one it claims, later backends are not asked.
   */
  public interface Claiming {
    /** Whether {@code request} must run here or nowhere; a cheap check of local state, no I/O. */
    boolean claims(GenerationRequest request);
  }

  public BackendRouter(List<ImageBackend> backends) {
    this.backends = List.copyOf(backends);
  }

  public List<ImageBackend> backends() {
    return backends;
  }

  /**
   * @throws UserError {@code BACKEND_UNAVAILABLE} naming every backend tried and its reason, or
   *     leading with the reason of a backend that claims the request and declined it
   */
  public ImageBackend route(GenerationRequest request) {
    StringJoiner tried = new StringJoiner("; ");
    for (ImageBackend backend : backends) {
      Optional<String> refusal = backend.refusal(request);
      if (refusal.isEmpty()) {
        return backend;
      }
      if (backend instanceof Claiming claiming && claiming.claims(request)) {
        throw UserError.of(
            UserError.Code.BACKEND_UNAVAILABLE,
            "error.backend.declined",
            capitalized(refusal.get()),
            request.model().id());
      }
      tried.add(backend.name() + ": " + refusal.get());
    }
    if (backends.isEmpty()) {
      tried.add("none are configured");
    }
    throw UserError.of(
        UserError.Code.BACKEND_UNAVAILABLE, "error.backend.none", request.model().id(), tried);
  }

  private static String capitalized(String text) {
    return text.isEmpty() ? text : Character.toUpperCase(text.charAt(0)) + text.substring(1);
  }
}
