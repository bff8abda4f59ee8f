package dev.fluxbot.core;

import java.util.Objects;

/**
 * A token or key. Its {@code toString} never shows the value, so it cannot slip into a log line.
 */
public final class Secret {
  private final String value;

  private Secret(String value) {
    this.value = value;
  }

  /** Wraps a non-blank value, stripped of surrounding whitespace (as read from a file). */
  public static Secret of(String value) {
    Objects.requireNonNull(value, "value");
    String v = value.strip();
    if (v.isEmpty()) {
      throw new IllegalArgumentException("secret must not be blank");
    }
    return new Secret(v);
  }

  /** The value, for the one header or call that needs it. */
  public String reveal() {
    return value;
  }

  /** True if {@code text} contains the value: for checks that nothing leaks. */
  public boolean isIn(CharSequence text) {
    return text != null && text.toString().contains(value);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Secret s && s.value.equals(value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return "Secret[redacted]";
  }
}
