package dev.fluxbot.slack;

import java.util.Objects;

/**
 * Slack's message text format read back into what the user typed. Slack escapes {@code &}, {@code
 * <} and {@code >} as entities, so a bare {@code <…>} is always Slack's markup: a link {@code
 * <http://x|label>}, a user {@code <@U123>}, a channel {@code <#C1|name>} or a special mention
 * {@code <!here>}.
 */
public final class SlackText {
  private static final String[][] ENTITIES = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};

  private SlackText() {}

  /**
   * The text as typed: entities decoded; a link becomes its label, which is the text the user typed
   * (Slack sends a typed {@code example.com} as {@code <http://example.com|example.com>}), or its
   * URL when it has none; mentions become {@code @name} / {@code #name}, or the id where Slack sent
   * no name.
   */
  public static String unescape(String text) {
    Objects.requireNonNull(text, "text");
    StringBuilder out = new StringBuilder(text.length());
    int i = 0;
    while (i < text.length()) {
      int end = text.charAt(i) == '<' ? text.indexOf('>', i + 1) : -1;
      if (end > 0) {
        out.append(markup(text.substring(i + 1, end)));
        i = end + 1;
      } else {
        i = appendDecoded(text, i, out);
      }
    }
    return out.toString();
  }

  /** The readable form of what stood between {@code <} and {@code >}. */
  private static String markup(String inner) {
    int bar = inner.indexOf('|');
    String target = bar < 0 ? inner : inner.substring(0, bar);
    String label = bar < 0 || bar == inner.length() - 1 ? null : entities(inner.substring(bar + 1));
    if (target.startsWith("@")) {
      return "@" + (label != null ? label : target.substring(1));
    }
    if (target.startsWith("#")) {
      return "#" + (label != null ? label : target.substring(1));
    }
    if (target.startsWith("!")) {
      return label != null ? label : "@" + special(target.substring(1));
    }
    return label != null ? label : entities(target);
  }

  /** {@code here} → here, {@code subteam^S123} → S123. */
  private static String special(String command) {
    int caret = command.indexOf('^');
    return caret >= 0 && command.startsWith("subteam") ? command.substring(caret + 1) : command;
  }

  private static String entities(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); ) {
      i = appendDecoded(s, i, out);
    }
    return out.toString();
  }

  /**
   * Appends the character or entity at {@code i}, decoded once (so {@code &amp;lt;} stays {@code
   * &lt;}); returns the next index.
   */
  private static int appendDecoded(String s, int i, StringBuilder out) {
    for (String[] e : ENTITIES) {
      if (s.startsWith(e[0], i)) {
        out.append(e[1]);
        return i + e[0].length();
      }
    }
    out.append(s.charAt(i));
    return i + 1;
  }
}
