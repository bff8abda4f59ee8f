package dev.fluxbot.app;

import dev.fluxbot.core.filter.FilterMatcher;
import dev.fluxbot.core.filter.FilterRule;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code filters:} in {@code fluxbot.yaml}: word and pattern filters for the whole installation
 * (docs/configuration.md, docs/filters.md). A prompt that matches one is refused before any credit
 * is held; admins add their own per server, workspace or chat.
 *
 * @param words words matched whole, case- and accent-insensitively ({@code cat} matches "Cat!", not
 *     "concatenate")
 * @param patterns Java regular expressions, matched case-insensitively against the prompt without
 *     its accents; each must compile and answer a probe string within 50 ms
 */
public record FilterSettings(List<String> words, List<String> patterns) {
  static final FilterSettings DEFAULTS = new FilterSettings(null, null);

  public FilterSettings {
    words = words == null ? List.of() : List.copyOf(words);
    patterns = patterns == null ? List.of() : List.copyOf(patterns);
    rules(words, patterns); // refuses a bad one when the config loads
  }

  /** The filters, checked: what the core's {@code filters(…)} takes. */
  List<FilterRule> rules() {
    return rules(words, patterns);
  }

  private static List<FilterRule> rules(List<String> words, List<String> patterns) {
    FilterMatcher matcher = new FilterMatcher();
    List<FilterRule> rules = new ArrayList<>();
    for (int i = 0; i < words.size(); i++) {
      rules.add(check(matcher, new FilterRule(words.get(i), false), "filters.words[" + i + "]"));
    }
    for (int i = 0; i < patterns.size(); i++) {
      rules.add(
          check(matcher, new FilterRule(patterns.get(i), true), "filters.patterns[" + i + "]"));
    }
    return rules;
  }

  private static FilterRule check(FilterMatcher matcher, FilterRule rule, String setting) {
    if (rule.pattern() == null) {
      throw new FluxbotConfig.ConfigException(setting + ": must not be empty; remove the line");
    }
    try {
      matcher.compile(rule, setting);
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException(e.getMessage());
    }
    return new FilterRule(rule.pattern().strip(), rule.regex());
  }
}
