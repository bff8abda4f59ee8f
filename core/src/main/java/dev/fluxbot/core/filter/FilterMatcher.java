package dev.fluxbot.core.filter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.text.Normalizer;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Matches prompts against {@link FilterRule}s.
 *
 * <p>Both the prompt and a word filter are <em>folded</em> first: Unicode NFKD, combining marks
 * dropped, then case folded (upper then lower case, so "ß" and "SS" meet as "ss"), so "Café",
 * "CAFE" and "café" are one word. A word filter matches whole words only: {@code cat} matches
 * "Cat!" and "a cat" but not "concatenate"; white space inside it matches any white space. A regex
 * filter is a Java regular expression, matched case-insensitively (marks dropped from it, its case
 * kept) against the folded prompt, anywhere unless it says otherwise.
 *
 * <p>Patterns are compiled once and cached. A regex can be slow on some input (catastrophic
 * backtracking), so every match runs against a view of the prompt that gives up after {@link
 * #LIMIT}: {@link #matches} then throws {@link TooSlow}, and the caller refuses the prompt (fails
 * closed). {@link #compile} refuses a regex that is already too slow on a probe string.
 */
public final class FilterMatcher {
  /** How long one filter may take on one prompt. */
  public static final Duration LIMIT = Duration.ofMillis(50);

  private static final Pattern MARKS = Pattern.compile("\\p{M}+");
  private static final String WORD = "[\\p{L}\\p{N}_]";

  /**
   * Strings a well-behaved regex answers at once and a catastrophic one (exponential backtracking)
   * never does. Short, so that a merely quadratic regex ({@code a+$}) passes: on a long prompt of
   * the one repeated letter it can still run out of time, and that prompt is refused.
   */
  private static final String[] PROBES = {
    "a".repeat(120) + "!",
    "ab".repeat(60) + "!",
    "a ".repeat(60) + "!",
    "1".repeat(120) + "x",
    "x".repeat(120),
    "a" + "b".repeat(120),
    "b".repeat(120) + "a",
    " ".repeat(120) + "x",
  };

  /**
   * How many characters a regex may read on a probe of n characters: 16 n². A regex that reads each
   * character a few times per start (a quadratic one, like {@code .*foo.*}) stays far below; one
   * whose work grows as n³ or faster ({@code (x+x+)+y}, {@code .*a.*b.*c}) passes it many times
   * over. Counting, unlike timing, gives the same answer on a fast and a busy machine.
   */
  private static final long PROBE_STEPS_PER_SQUARE = 16;

  private final Cache<FilterRule, Pattern> compiled =
      Caffeine.newBuilder().maximumSize(10_000).build();
  private final long limitNanos;

  public FilterMatcher() {
    this(LIMIT);
  }

  /** With another time limit per match (for tests). */
  public FilterMatcher(Duration limit) {
    this.limitNanos = limit.toNanos();
  }

  /** A filter's match took longer than the limit; the prompt could not be checked. */
  public static final class TooSlow extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TooSlow() {
      super("a filter took longer than its time limit", null, false, false);
    }
  }

  /** The text as filters see it: NFKD, without combining marks, case folded. */
  public static String fold(String text) {
    String decomposed = Normalizer.normalize(text, Normalizer.Form.NFKD);
    return MARKS
        .matcher(decomposed)
        .replaceAll("")
        .toUpperCase(Locale.ROOT)
        .toLowerCase(Locale.ROOT);
  }

  /**
   * Checks a rule and compiles it (cached), so that a broken or catastrophic pattern is refused
   * when it is added, not when a prompt meets it.
   *
   * @param setting how the answer names the setting ("pattern", "filters.patterns[2]")
   * @throws IllegalArgumentException naming the setting, the rule and the value: an empty or too
   *     long pattern, a regex that does not compile (with the compiler's message), or one too slow
   *     on a probe string
   */
  public Pattern compile(FilterRule rule, String setting) {
    String p = rule.pattern().strip();
    if (p.isEmpty() || rule.pattern().length() > FilterRule.MAX_LENGTH) {
      throw FilterMessages.badLength(setting, rule.pattern());
    }
    if (!rule.regex() && fold(p).isBlank()) {
      throw FilterMessages.noWord(setting, p);
    }
    Pattern pattern = build(new FilterRule(p, rule.regex()), setting);
    if (rule.regex()) {
      for (String probe : PROBES) {
        try {
          find(pattern, probe, PROBE_STEPS_PER_SQUARE * probe.length() * probe.length());
        } catch (TooSlow e) {
          throw FilterMessages.slowOnAdd(setting, p);
        }
      }
    }
    compiled.put(new FilterRule(p, rule.regex()), pattern);
    return pattern;
  }

  /**
   * Whether the rule matches the prompt.
   *
   * @param folded the prompt as {@link #fold} made it
   * @throws TooSlow where the match took longer than the limit
   * @throws IllegalArgumentException for a rule that does not compile (one stored before a check)
   */
  public boolean matches(FilterRule rule, String folded) {
    FilterRule key = new FilterRule(rule.pattern().strip(), rule.regex());
    Pattern pattern = compiled.get(key, k -> build(k, "pattern"));
    return find(pattern, folded, Long.MAX_VALUE);
  }

  private boolean find(Pattern pattern, String text, long maxSteps) {
    try {
      return pattern
          .matcher(new Deadline(text, System.nanoTime() + limitNanos, maxSteps, new long[1]))
          .find();
    } catch (StackOverflowError e) { // a deeply recursive match: as unusable as a slow one
      throw new TooSlow();
    }
  }

  private static Pattern build(FilterRule rule, String setting) {
    if (!rule.regex()) {
      String[] words = fold(rule.pattern()).strip().split("\\s+");
      StringBuilder re = new StringBuilder("(?<!" + WORD + ")");
      for (int i = 0; i < words.length; i++) {
        re.append(i == 0 ? "" : "\\s+").append(Pattern.quote(words[i]));
      }
      return Pattern.compile(re.append("(?!").append(WORD).append(')').toString());
    }
    String unmarked =
        MARKS.matcher(Normalizer.normalize(rule.pattern(), Normalizer.Form.NFKD)).replaceAll("");
    try {
      return Pattern.compile(unmarked, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    } catch (PatternSyntaxException e) {
      throw FilterMessages.badRegex(setting, rule.pattern(), e.getDescription(), e.getIndex());
    }
  }

  /**
   * The prompt as a regex sees it, giving up once the deadline has passed or (on a probe) once the
   * regex has read more characters than {@code maxSteps}.
   */
  private record Deadline(String text, long deadline, long maxSteps, long[] steps)
      implements CharSequence {
    @Override
    public char charAt(int index) {
      long n = ++steps[0];
      if (n > maxSteps || ((n & 0x3FF) == 0 && System.nanoTime() > deadline)) {
        throw new TooSlow();
      }
      return text.charAt(index);
    }

    @Override
    public int length() {
      return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return new Deadline(text.substring(start, end), deadline, maxSteps, steps);
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
