package dev.fluxbot.core.chat;

/**
 * A chat platform did not take a finished image (it was down, refused the upload, or the channel is
 * gone). {@link dev.fluxbot.core.ChatReply#image} throws it; the job keeps its image and the core
 * delivers it again later.
 */
public final class DeliveryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DeliveryException(String message, Throwable cause) {
    super(message, cause);
  }
}
