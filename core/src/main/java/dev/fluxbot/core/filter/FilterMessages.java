package dev.fluxbot.core.filter;

import dev.fluxbot.core.Msg;
import dev.fluxbot.core.Text;
import dev.fluxbot.core.UserError;
import java.util.List;

/**
 * What the filters say, in one place: a refusal is a {@link UserError} keyed into the message
 * bundles (written in the reader's language when shown); the admin answers are still English.
 */
public final class FilterMessages {
  private FilterMessages() {}

  /** A prompt matched a filter; only an admin hears which, and where it was set. */
  public static UserError refused(boolean admin, FilterRule rule, String where, String variant) {
    return admin
        ? UserError.of(
            UserError.Code.FILTERED,
            "error.filter.refused.admin",
            Text.quote(rule.pattern()),
            Msg.of(rule.regex() ? "filter.kind.regex" : "filter.kind.word"),
            where,
            Text.quote(variant))
        : UserError.of(UserError.Code.FILTERED, "error.filter.refused");
  }

  /** A filter took longer than its limit on this prompt: refused, as it could not be checked. */
  public static UserError tooSlow(boolean admin, FilterRule rule) {
    long ms = FilterMatcher.LIMIT.toMillis();
    return admin
        ? UserError.of(
            UserError.Code.FILTERED, "error.filter.too_slow.admin", ms, Text.quote(rule.pattern()))
        : UserError.of(UserError.Code.FILTERED, "error.filter.too_slow", ms);
  }

  /** Where a filter applies, as an admin's answer says it. */
  public static String where(String platform, String scopeId) {
    if (platform.equals(FilterStore.INSTALLATION)) {
      return "installation-wide";
    }
    return scopeId.equals(FilterStore.EVERY_CHAT)
        ? "every chat on " + platform
        : platform + " " + scopeId;
  }

  /** Where a filter from the config applies. */
  public static final String CONFIG = "installation-wide, in fluxbot.yaml";

  /** {@code filter add}: the answer. */
  public static String added(FilterRule rule, String here, boolean isNew) {
    return isNew
        ? "Added the "
            + (rule.regex() ? "regex" : "word")
            + " filter "
            + Text.quote(rule.pattern())
            + " "
            + here
            + ". Prompts that match it are refused before anything is charged."
        : "The filter " + Text.quote(rule.pattern()) + " is set " + here + " already.";
  }

  /** {@code filter remove}: the answer; none removed is a mistake naming the pattern. */
  public static String removed(String pattern, String here, int count) {
    if (count == 0) {
      throw new IllegalArgumentException(
          "filter remove: no filter "
              + Text.quote(pattern)
              + " is set "
              + here
              + "; see them with filter list, and give the pattern exactly as listed");
    }
    return "Removed the filter " + Text.quote(pattern) + " " + here + ".";
  }

  /** {@code filter list}: one line per filter, or that there are none. */
  public static String list(List<FilterStore.Entry> entries, String here) {
    if (entries.isEmpty()) {
      return "No word filters are set "
          + here
          + ". Add one with filter add WORDS (or filter add PATTERN --regex).";
    }
    StringBuilder sb = new StringBuilder("Word filters " + here + " (" + entries.size() + "):");
    for (FilterStore.Entry e : entries) {
      sb.append("\n• ")
          .append(e.rule().regex() ? "regex " : "word ")
          .append(Text.quote(e.rule().pattern()));
    }
    return sb.toString();
  }

  /** A pattern that is empty or longer than {@link FilterRule#MAX_LENGTH}. */
  public static IllegalArgumentException badLength(String setting, String pattern) {
    return new IllegalArgumentException(
        setting
            + ": must be 1 to "
            + FilterRule.MAX_LENGTH
            + " characters; got "
            + pattern.length()
            + " ("
            + Text.quote(pattern)
            + "). Give a shorter word or pattern");
  }

  /** A word filter with nothing left once accents are dropped. */
  public static IllegalArgumentException noWord(String setting, String pattern) {
    return new IllegalArgumentException(
        setting
            + ": must hold a letter, digit or sign; "
            + Text.quote(pattern)
            + " has none once accents are dropped. Give a word");
  }

  /** A regex that does not compile, with the compiler's words and where. */
  public static IllegalArgumentException badRegex(
      String setting, String pattern, String why, int index) {
    return new IllegalArgumentException(
        setting
            + ": must be a valid regular expression; "
            + Text.quote(pattern)
            + " is not ("
            + why
            + (index >= 0 ? " near character " + (index + 1) : "")
            + "). Fix it, or leave out --regex to match the words as typed");
  }

  /** A regex too slow on a short test string (catastrophic backtracking). */
  public static IllegalArgumentException slowOnAdd(String setting, String pattern) {
    return new IllegalArgumentException(
        setting
            + ": a regex must answer within "
            + FilterMatcher.LIMIT.toMillis()
            + " ms on any prompt, and "
            + Text.quote(pattern)
            + " backtracks too much already on a short test string (repeats inside repeats,"
            + " like (x+x+)+, or several .* in a row, grow without bound). Rewrite it with fewer"
            + " nested repeats, e.g. x+ for (x+x+)+");
  }

  /** A scope that has as many filters as it may. */
  public static IllegalArgumentException tooMany(int max) {
    return new IllegalArgumentException(
        "filter: at most "
            + max
            + " filters per scope; this one has "
            + max
            + ". Remove some, or join words into one regex with --regex");
  }

  /** A filter command's words that make no sense: the field, the rule, the value. */
  public static IllegalArgumentException usage(String got) {
    return new IllegalArgumentException(
        "filter: expected add PATTERN [--regex], remove PATTERN or list; got " + Text.quote(got));
  }
}
