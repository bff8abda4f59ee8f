package dev.fluxbot.core.filter;

import java.util.Objects;

/**
 * One word or pattern filter.
 *
 * @param pattern the words (or, with {@code regex}, the Java regular expression) as the admin typed
 *     them
 * @param regex whether {@code pattern} is a regular expression; otherwise it is words matched whole
 *     (word-bounded), case- and accent-insensitively
 */
public record FilterRule(String pattern, boolean regex) {
  /** The longest pattern a filter may have, in characters. */
  public static final int MAX_LENGTH = 200;

  public FilterRule {
    Objects.requireNonNull(pattern, "pattern");
  }

  /** "word cat" or "regex nud(e|ity)": how answers and the CLI name a filter. */
  public String describe() {
    return (regex ? "regex " : "word ") + pattern;
  }
}
