package dev.fluxbot.core.enhance;

/**
 * An enhancement that did not work; the message is one line a user may read (no secret, no stack).
 */
public final class EnhanceException extends Exception {
  private static final long serialVersionUID = 1L;

  public EnhanceException(String message) {
    super(message);
  }

  public EnhanceException(String message, Throwable cause) {
    super(message, cause);
  }
}
