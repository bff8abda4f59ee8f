package dev.fluxbot.core.backend;

import dev.fluxbot.core.ProgressListener;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import java.util.Optional;

/**
 * Where images come from: the BFL API, a local klein worker. The {@link BackendRouter} asks each in
 * order and uses the first that serves a request.
 */
public interface ImageBackend {

  /** A short name for logs and for "tried: …" messages ({@code bfl}, {@code local-klein}). */
  String name();

  /** Empty when this backend can run the request; otherwise why not, in words a user can act on. */
  Optional<String> refusal(GenerationRequest request);

  /**
   * Runs the job to the end, blocking (call it on a virtual thread), reporting progress on the way.
   *
   * @throws UserError for every failure a user should hear about: moderation, a refusal by the API,
   *     a time-out, cancellation (interruption)
   */
  GenerationResult generate(GenerationJob job, ProgressListener progress);

  /** Whether its images are paid in BFL credits (and so count toward the monthly BFL budget). */
  default boolean spendsBflCredits() {
    return false;
  }

  /** Whether {@link #resume} can pick up a task this backend started before a restart. */
  default boolean canResume() {
    return false;
  }

  /**
   * Picks up a task started before a restart (reported through {@link ProgressListener#onTask}) and
   * runs it to the end without starting it again.
   *
   * @throws UnsupportedOperationException where {@link #canResume()} is false
   */
  default GenerationResult resume(GenerationJob job, BackendTask task, ProgressListener progress) {
    throw new UnsupportedOperationException(name() + " cannot resume tasks");
  }
}
