package dev.fluxbot.core.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.UserError;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FilterMatcherTest {
  private final FilterMatcher matcher = new FilterMatcher();

  private boolean word(String pattern, String prompt) {
    return matcher.matches(new FilterRule(pattern, false), FilterMatcher.fold(prompt));
  }

  private boolean regex(String pattern, String prompt) {
    return matcher.matches(new FilterRule(pattern, true), FilterMatcher.fold(prompt));
  }

  @Test
  void foldingDropsAccentsAndCase() {
    assertThat(FilterMatcher.fold("Crème BRÛLÉE")).isEqualTo("creme brulee");
    assertThat(FilterMatcher.fold("Straße")).isEqualTo("strasse");
    assertThat(FilterMatcher.fold("ﬁne Ⅻ")).isEqualTo("fine xii"); // NFKD compatibility forms
    assertThat(FilterMatcher.fold("İstanbul")).isEqualTo("istanbul");
  }

  @Test
  void wordsMatchWholeWordsCaseAndAccentInsensitively() {
    assertThat(word("cat", "Cat!")).isTrue();
    assertThat(word("cat", "a cat")).isTrue();
    assertThat(word("cat", "CAT")).isTrue();
    assertThat(word("cat", "concatenate")).isFalse();
    assertThat(word("cat", "cats")).isFalse();
    assertThat(word("cat", "cat_fish")).isFalse();
    assertThat(word("cat", "cat-fish")).isTrue();
    assertThat(word("café", "a CAFE here")).isTrue();
    assertThat(word("cafe", "un café")).isTrue();
    assertThat(word("strasse", "Straße")).isTrue();
    assertThat(word("red fox", "a RED   fox")).isTrue();
    assertThat(word("red fox", "a red foxes")).isFalse();
    assertThat(word("c++", "write c++ code")).isTrue();
    assertThat(word("a.b", "axb")).as("a word's dot is a dot").isFalse();
    assertThat(word("ñandú", "un nandu")).isTrue();
    assertThat(word("猫", "一只猫")).as("no spaces around CJK: letters on both sides").isFalse();
    assertThat(word("猫", "猫")).isTrue();
  }

  @Test
  void regexesMatchAnywhereUnlessTheySayOtherwise() {
    assertThat(regex("nud(e|ity)", "Nudity")).isTrue();
    assertThat(regex("nud(e|ity)", "denuded")).isTrue();
    assertThat(regex("\\bnud(e|ity)\\b", "denuded")).isFalse();
    assertThat(regex("caf[eé]", "CAFÉ")).isTrue();
    assertThat(regex("CRÈME", "creme"))
        .as("marks dropped from the regex, its case ignored")
        .isTrue();
    assertThat(regex("^a\\s+fox$", "A  Fox")).isTrue();
  }

  @Test
  void aRegexThatDoesNotCompileIsRefusedOnAddWithTheCompilersMessage() {
    assertThatThrownBy(() -> matcher.compile(new FilterRule("nud(e|ity", true), "pattern"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "pattern: must be a valid regular expression; \"nud(e|ity\" is not (")
        .hasMessageContaining("Unclosed group")
        .hasMessageContaining("leave out --regex");
    assertThatThrownBy(() -> matcher.compile(new FilterRule("[a-", true), "filters.patterns[2]"))
        .hasMessageStartingWith("filters.patterns[2]: must be a valid regular expression");
  }

  @Test
  void emptyOrLongOrMarkOnlyPatternsAreRefused() {
    assertThatThrownBy(() -> matcher.compile(new FilterRule("  ", false), "pattern"))
        .hasMessageStartingWith("pattern: must be 1 to 200 characters; got 2");
    assertThatThrownBy(() -> matcher.compile(new FilterRule("x".repeat(201), false), "pattern"))
        .hasMessageStartingWith("pattern: must be 1 to 200 characters; got 201");
    assertThatThrownBy(() -> matcher.compile(new FilterRule("\u0301", false), "pattern"))
        .hasMessageContaining("has none once accents are dropped");
  }

  @Test
  void aCatastrophicRegexIsRefusedOnAddWithinABoundedTime() {
    for (String bad :
        List.of("(x+x+)+y", "(.*a){20}", "(.*.*)+!x{9}", ".*a.*b.*c", "(.*)(.*)(.*)z")) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> matcher.compile(new FilterRule(bad, true), "pattern"), bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("a regex must answer within 50 ms")
          .hasMessageContaining("(x+x+)+");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }
    matcher.compile(new FilterRule("a+$", true), "pattern");
    for (String fine :
        List.of(
            ".*foo.*",
            "^(\\w+\\s*)+$",
            "(a|b|ab)*c",
            "\\b(red|blue)\\s+fox\\b",
            "red.*fox.*snow")) {
      matcher.compile(new FilterRule(fine, true), "pattern");
    }
    matcher.compile(new FilterRule("(a+)+$", true), "pattern"); // Java's matcher: not exponential
    matcher.compile(new FilterRule("\\bnud(e|ity)\\b", true), "pattern");
  }

  @Test
  void aSlowMatchGivesUpAfterTheLimitInsteadOfHanging() {
    FilterRule slow = new FilterRule("(a+)+$", true); // fast on short text, slow on a long run
    String prompt = "a".repeat(4000) + "!";
    long start = System.nanoTime();
    assertThatThrownBy(() -> matcher.matches(slow, prompt))
        .isInstanceOf(FilterMatcher.TooSlow.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
  }

  @Test
  void theCheckRefusesASlowPromptAndNamesTheRegexOnlyToAnAdmin() {
    PromptFilters filters =
        new PromptFilters(null, List.of(new FilterRule("(a+)+$", true)), matcher);
    String prompt = "a".repeat(4000) + "!";
    Requester user = new Requester("slack", "U1", "ann", "T1", Set.of(), false);
    Requester admin = new Requester("slack", "U2", "bo", "T1", Set.of(), true);
    assertThatThrownBy(() -> filters.check(user, prompt))
        .isInstanceOf(UserError.class)
        .hasMessageStartingWith(
            "prompt: could not be checked against the word filters within 50 ms")
        .hasMessageNotContaining("(a+)");
    assertThatThrownBy(() -> filters.check(admin, prompt)).hasMessageContaining("\"(a+)+$\"");
  }

  @Test
  void theCheckLooksAtEveryVariant() {
    PromptFilters filters =
        new PromptFilters(null, List.of(new FilterRule("red fox", false)), matcher);
    Requester user = new Requester("cli", "u", "u", null, Set.of(), false);
    filters.check(user, "a {blue, green} fox");
    assertThatThrownBy(() -> filters.check(user, "a {blue, red} fox"))
        .isInstanceOf(UserError.class)
        .extracting(e -> ((UserError) e).code())
        .isEqualTo(UserError.Code.FILTERED);
    PromptFilters.none().check(user, "a red fox");
  }
}
