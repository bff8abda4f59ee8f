package dev.fluxbot.core;

/**
 * What the core says back while a job runs; each platform implements it once (edit the deferred
 * message, post a new one, send a document…). Calls arrive in order from the job's thread.
 */
public interface ChatReply {

  /** The command parsed; the job is on its way. */
  void accepted(String jobId, GenerationRequest request);

  /** Waiting behind {@code position} other jobs. */
  void queued(int position);

  void progress(Progress progress);

  /** The image, with everything the reply shows under it. */
  void image(ImageReply reply);

  /** The job ended without an image; the message says why and what to do. */
  void failed(UserError error);
}
