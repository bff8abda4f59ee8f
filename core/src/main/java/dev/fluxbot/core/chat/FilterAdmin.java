package dev.fluxbot.core.chat;

import dev.fluxbot.core.filter.FilterMatcher;
import dev.fluxbot.core.filter.FilterMessages;
import dev.fluxbot.core.filter.FilterRule;
import dev.fluxbot.core.filter.FilterStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The admin's word filters for one scope, the same on every platform: Discord's {@code
 * /fluxbot-admin filter add|remove|list}, and the words {@code filter add [--regex] PATTERN},
 * {@code filter remove PATTERN}, {@code filter list} after Telegram's {@code /admin} and Slack's
 * {@code /imagine-admin}. A scope without an id (Telegram's private admin chat) means every chat on
 * the platform. A mistake is an {@link IllegalArgumentException} naming the field, the rule and the
 * value.
 */
public final class FilterAdmin {
  private final FilterStore store;
  private final FilterMatcher matcher;
  private final ChatTexts texts;

  public FilterAdmin(FilterStore store, FilterMatcher matcher, ChatTexts texts) {
    this.store = store;
    this.matcher = matcher;
    this.texts = texts;
  }

  /**
   * Adds a filter after checking it: a regex must compile and answer quickly on a probe string.
   *
   * @param addedBy who adds it ({@code discord:1234}), kept for the list
   */
  public String add(ChatAdmin.Scope scope, String pattern, boolean regex, String addedBy) {
    FilterRule rule = new FilterRule(pattern == null ? "" : pattern.strip(), regex);
    matcher.compile(rule, "pattern");
    boolean isNew = store.add(scope.platform(), scope.id(), rule, addedBy);
    return FilterMessages.added(escaped(rule), scope.here(), isNew);
  }

  public String remove(ChatAdmin.Scope scope, String pattern) {
    String p = pattern == null ? "" : pattern.strip();
    int removed = store.remove(scope.platform(), scope.id(), p);
    return FilterMessages.removed(texts.markup().escape(p), scope.here(), removed);
  }

  /** The scope's own filters (the installation's apply too, and are not listed here). */
  public String list(ChatAdmin.Scope scope) {
    List<FilterStore.Entry> shown = new ArrayList<>();
    for (FilterStore.Entry e : store.list(scope.platform(), scope.id())) {
      shown.add(
          new FilterStore.Entry(
              e.platform(), e.scopeId(), escaped(e.rule()), e.addedBy(), e.addedAt()));
    }
    return FilterMessages.list(shown, scope.here());
  }

  /**
   * The words after {@code filter}: {@code add [--regex] PATTERN…} (the flag may come last too),
   * {@code remove PATTERN…}, {@code list}. A pattern of several words keeps one space between them.
   *
   * @param text undoes the platform's escaping of the admin's words
   */
  public String words(
      ChatAdmin.Scope scope,
      List<String> words,
      String addedBy,
      java.util.function.UnaryOperator<String> text) {
    if (words.isEmpty()) {
      throw FilterMessages.usage("nothing");
    }
    String sub = words.get(0).toLowerCase(Locale.ROOT);
    List<String> rest = new ArrayList<>(words.subList(1, words.size()));
    boolean regex = rest.remove("--regex") | rest.remove("—regex");
    String pattern = text.apply(String.join(" ", rest));
    return switch (sub) {
      case "add" -> add(scope, pattern, regex, addedBy);
      case "remove", "rm", "delete" -> remove(scope, pattern);
      case "list", "show" -> list(scope);
      default -> throw FilterMessages.usage(String.join(" ", words));
    };
  }

  private FilterRule escaped(FilterRule rule) {
    return new FilterRule(texts.markup().escape(rule.pattern()), rule.regex());
  }
}
