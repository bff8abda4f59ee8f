package dev.fluxbot.testkit.telegram;

/** A 400 with Telegram's description (without the {@code Bad Request: } prefix). */
final class BadRequest extends RuntimeException {
  private static final long serialVersionUID = 1L;

  BadRequest(String description) {
    super(description, null, false, false);
  }
}
