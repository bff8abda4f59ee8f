package dev.fluxbot.core;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The one error a user ever sees. Its message names the field, the rule and the value, and says
 * what to do next; it never holds a token, a key or a platform file URL.
 *
 * <p>Its sentence is a {@link Msg} (a bundle key and arguments), rendered late, in the reader's
 * language, by {@link #message(Locale)}; {@link #getMessage()} is the English one, for logs, the
 * command line and the stored job row. The constructors that take a finished {@code String} remain
 * for a message that is not yet in the bundles; {@code MessageBundlesTest} refuses new ones.
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
  private final transient Msg text;

  public UserError(Code code, String message) {
    super(Objects.requireNonNull(message, "message"), null, false, false);
    this.code = Objects.requireNonNull(code, "code");
    this.text = null;
  }

  public UserError(Code code, String message, Throwable cause) {
    super(Objects.requireNonNull(message, "message"), cause, false, false);
    this.code = Objects.requireNonNull(code, "code");
    this.text = null;
  }

  /** An error whose sentence is written in the reader's language when it is shown. */
  public UserError(Code code, Msg text) {
    this(code, text, null);
  }

  public UserError(Code code, Msg text, Throwable cause) {
    super(Objects.requireNonNull(text, "text").english(), cause, false, false);
    this.code = Objects.requireNonNull(code, "code");
    this.text = text;
  }

  /** {@code new UserError(code, Msg.of(key, args))}. */
  public static UserError of(Code code, String key, Object... args) {
    return new UserError(code, Msg.of(key, args));
  }

  /** The sentence in {@code locale}; English for a message that is not in the bundles. */
  public String message(Locale locale) {
    return text == null ? getMessage() : text.render(locale);
  }

  /** The bundle key and arguments; empty for a message that is not in the bundles. */
  public Optional<Msg> text() {
    return Optional.ofNullable(text);
  }

  public Code code() {
    return code;
  }

  @Override
  public String toString() {
    return "UserError[" + code + "]: " + getMessage();
  }
}
