package dev.fluxbot.core;

import dev.fluxbot.core.model.GenerationRequest;

/**
 * What the core says back while a job runs; each platform implements it once (edit the deferred
 * message, post a new one, send a document…). Calls arrive in order from the job's thread.
 */
public interface ChatReply {

  /**
   * A reply that tells nobody: for work whose answer goes nowhere (a benchmark, a job this process
   * cannot deliver).
   */
  static ChatReply silent() {
    return Silent.INSTANCE;
  }

  /** The one silent reply. */
  enum Silent implements ChatReply {
    INSTANCE;

    @Override
    public void accepted(String jobId, GenerationRequest request) {}

    @Override
    public void queued(int position) {}

    @Override
    public void progress(Progress progress) {}

    @Override
    public void image(ImageReply reply) {}

    @Override
    public void failed(UserError error) {}
  }

  /** The command parsed; the job is on its way. */
  void accepted(String jobId, GenerationRequest request);

  /** Waiting behind {@code position} other jobs. */
  void queued(int position);

  void progress(Progress progress);

  /**
   * The image, with everything the reply shows under it.
   *
   * @throws dev.fluxbot.core.chat.DeliveryException when the platform did not take it; the core
   *     delivers it again later
   */
  void image(ImageReply reply);

  /** The job ended without an image; the message says why and what to do. */
  void failed(UserError error);
}
