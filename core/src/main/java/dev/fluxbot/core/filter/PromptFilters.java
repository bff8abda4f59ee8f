package dev.fluxbot.core.filter;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.command.PromptVariants;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one check every prompt passes before any credit is held: the installation's filters (from the
 * config and {@code fluxbot filter add}), the platform's every-chat ones and the scope's.
 *
 * <p>A prompt that matches is refused with a {@link UserError} ({@link UserError.Code#FILTERED})
 * that says a filter matched, and to an admin which one. A filter that takes longer than {@link
 * FilterMatcher#LIMIT} on a prompt refuses it too (the check fails closed) and is logged once. A
 * stored regex that no longer compiles is skipped and logged once.
 */
public final class PromptFilters {
  private static final Logger log = LoggerFactory.getLogger(PromptFilters.class);

  private final FilterStore store;
  private final List<FilterRule> installation;
  private final FilterMatcher matcher;
  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  /**
   * @param store the admins' filters, or null for none (tests, a core without a database)
   * @param installation the config's filters ({@code filters:}), already checked with {@link
   *     FilterMatcher#compile}
   */
  public PromptFilters(FilterStore store, List<FilterRule> installation, FilterMatcher matcher) {
    this.store = store;
    this.installation = List.copyOf(installation);
    this.matcher = Objects.requireNonNull(matcher, "matcher");
  }

  /** No filters at all. */
  public static PromptFilters none() {
    return new PromptFilters(null, List.of(), new FilterMatcher());
  }

  public FilterMatcher matcher() {
    return matcher;
  }

  /** The config's filters. */
  public List<FilterRule> installation() {
    return installation;
  }

  /**
   * Refuses a prompt that matches a filter: the prompt as given, and each prompt variant it expands
   * to ({@code {a, b}}), so a variant cannot slip a filtered word past.
   *
   * @throws UserError {@link UserError.Code#FILTERED}
   */
  public void check(Requester who, String prompt) {
    check(who, List.of(prompt));
  }

  /** Like {@link #check(Requester, String)}, for every prompt of one command. */
  public void check(Requester who, List<String> prompts) {
    List<Applying> rules = rules(who);
    if (rules.isEmpty()) {
      return;
    }
    Set<String> texts = new LinkedHashSet<>();
    for (String prompt : prompts) {
      try {
        texts.addAll(PromptVariants.expand(prompt));
      } catch (UserError notExpandable) {
        // the grammar refuses it later with its own message; the text as typed is checked
      }
      texts.add(prompt); // after the variants, so an admin hears the variant that matched
    }
    for (String text : texts) {
      String folded = FilterMatcher.fold(text);
      for (Applying a : rules) {
        if (matches(a.rule(), folded, who)) {
          log.info("prompt refused by the {} filter ({})", a.rule().describe(), a.where());
          throw FilterMessages.refused(who.admin(), a.rule(), a.where(), text);
        }
      }
    }
  }

  private boolean matches(FilterRule rule, String folded, Requester who) {
    try {
      return matcher.matches(rule, folded);
    } catch (FilterMatcher.TooSlow e) {
      if (warned.add("slow " + rule.describe())) {
        log.warn(
            "the {} filter took over {} ms on a prompt, so the prompt was refused; simplify it",
            rule.describe(),
            FilterMatcher.LIMIT.toMillis());
      }
      throw FilterMessages.tooSlow(who.admin(), rule);
    } catch (IllegalArgumentException e) {
      if (warned.add("broken " + rule.describe())) {
        log.warn("the {} filter is skipped: {}", rule.describe(), e.getMessage());
      }
      return false;
    }
  }

  private record Applying(FilterRule rule, String where) {}

  private List<Applying> rules(Requester who) {
    List<Applying> out = new ArrayList<>();
    for (FilterRule r : installation) {
      out.add(new Applying(r, FilterMessages.CONFIG));
    }
    if (store != null) {
      for (FilterStore.Entry e : store.applying(who.platform(), who.scopeId())) {
        out.add(new Applying(e.rule(), FilterMessages.where(e.platform(), e.scopeId())));
      }
    }
    return out;
  }
}
