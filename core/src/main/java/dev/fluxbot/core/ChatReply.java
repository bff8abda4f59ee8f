package dev.fluxbot.core;

import dev.fluxbot.core.model.GenerationRequest;
import java.util.List;

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

  /**
   * Several images made by one command ({@code --n 2..4}), in one answer, once every image has
   * ended: the images made, the ones that failed named with why, and the group's buttons ({@link
   * GroupButtons}). A reply that shows one image at a time gets each image, then (where some failed
   * and none was made) the first failure.
   *
   * @throws dev.fluxbot.core.chat.DeliveryException when the platform did not take it; the core
   *     delivers the whole group again later
   */
  default void group(GroupReply group) {
    List<ImageReply> images = group.images();
    images.forEach(this::image);
    if (images.isEmpty()) {
      failed(group.failed().get(0).error());
    }
  }
}
