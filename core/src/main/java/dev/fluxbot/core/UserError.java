package dev.fluxbot.core;

import java.util.Objects;

/**
 * The one error a user ever sees. Its message names the field, the rule and the value, and says
 * what to do next; it never holds a token, a key or a platform file URL.
 */
public final class UserError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What went wrong; {@link Kind} says whose side it is on. */
  public enum Code {
    INVALID_OPTION(Kind.INPUT),
    UNKNOWN_OPTION(Kind.INPUT),
    EMPTY_PROMPT(Kind.INPUT),
    PROMPT_TOO_LONG(Kind.INPUT),
    TOO_MANY_REFERENCES(Kind.INPUT),
    INVALID_REFERENCE(Kind.INPUT),
    IMAGE_TOO_LARGE(Kind.INPUT),
    QUOTA_EXCEEDED(Kind.INPUT),
    BANNED(Kind.INPUT),
    FILTERED(Kind.INPUT),
    MODERATED(Kind.OUTCOME),
    BACKEND_UNAVAILABLE(Kind.BACKEND),
    BACKEND_REJECTED(Kind.BACKEND),
    BACKEND_CREDITS(Kind.BACKEND),
    BACKEND_AUTH(Kind.BACKEND),
    BACKEND_FAILED(Kind.BACKEND),
    TIMED_OUT(Kind.BACKEND),
    CANCELLED(Kind.OUTCOME);

    private final Kind kind;

    Code(Kind kind) {
      this.kind = kind;
    }

    public Kind kind() {
      return kind;
    }
  }

  /** Whose side an error is on: the user's input, the content's outcome, or the backend. */
  public enum Kind {
    INPUT,
    OUTCOME,
    BACKEND
  }

  private final Code code;

  public UserError(Code code, String message) {
    super(Objects.requireNonNull(message, "message"), null, false, false);
    this.code = Objects.requireNonNull(code, "code");
  }

  public UserError(Code code, String message, Throwable cause) {
    super(Objects.requireNonNull(message, "message"), cause, false, false);
    this.code = Objects.requireNonNull(code, "code");
  }

  public Code code() {
    return code;
  }

  @Override
  public String toString() {
    return "UserError[" + code + "]: " + getMessage();
  }
}
