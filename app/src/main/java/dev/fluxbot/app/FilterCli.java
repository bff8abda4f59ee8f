package dev.fluxbot.app;

import dev.fluxbot.core.filter.FilterMessages;
import dev.fluxbot.core.filter.FilterRule;
import dev.fluxbot.core.filter.FilterStore;
import java.io.PrintWriter;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code fluxbot filter …}: word and pattern filters, on the store the bot uses. */
@Command(
    name = "filter",
    mixinStandardHelpOptions = true,
    description = {
      "Word and pattern filters: a prompt that matches one is refused before anything is charged.",
      "Without --scope a filter holds for the whole installation; --scope PLATFORM:ID names a"
          + " server, workspace or chat, and PLATFORM:* every chat on that platform.",
      "Example: fluxbot filter add --scope discord:41771983423143937 \"red fox\""
    },
    subcommands = {FilterCli.Add.class, FilterCli.Remove.class, FilterCli.ListFilters.class})
final class FilterCli {
  private static final Pattern SCOPE = Pattern.compile("([a-z]+):([^\\s:]+)");
  private static final Set<String> PLATFORMS = Set.of("discord", "telegram", "slack");

  @CommandLine.ParentCommand Main main;

  /** Where a filter holds: a platform and scope id, or the whole installation. */
  record Where(String platform, String scopeId) {
    static final Where INSTALLATION = new Where(FilterStore.INSTALLATION, FilterStore.EVERY_CHAT);

    /**
     * @throws IllegalArgumentException naming --scope, the rule and the value
     */
    static Where parse(String scope) {
      if (scope == null) {
        return INSTALLATION;
      }
      Matcher m = SCOPE.matcher(scope.strip());
      if (!m.matches() || !PLATFORMS.contains(m.group(1))) {
        throw new IllegalArgumentException(
            "--scope: must be PLATFORM:ID or PLATFORM:* with PLATFORM discord, telegram or slack"
                + " (like discord:41771983423143937); got \""
                + scope
                + "\". Leave it out for the whole installation");
      }
      return new Where(m.group(1), m.group(2).equals("*") ? FilterStore.EVERY_CHAT : m.group(2));
    }

    String here() {
      return platform.equals(FilterStore.INSTALLATION)
          ? "for the whole installation"
          : "for " + FilterMessages.where(platform, scopeId);
    }
  }

  /** The shared start of every filter command: open the store, run, report. */
  abstract static class Base implements Callable<Integer> {
    @CommandLine.ParentCommand FilterCli parent;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public final Integer call() {
      return parent.main.withStore(
          spec,
          (wiring, out, err) -> {
            run(wiring, new FilterStore(wiring.db, InstantSource.system()), out);
            return Main.OK;
          });
    }

    abstract void run(Wiring wiring, FilterStore store, PrintWriter out);
  }

  @Command(name = "add", description = "Refuse prompts that match words (or a regex).")
  static final class Add extends Base {
    @Option(names = "--scope", paramLabel = "PLATFORM:ID", description = "Where it holds.")
    String scope;

    @Option(
        names = "--regex",
        description =
            "PATTERN is a Java regular expression (matched anywhere, case-insensitively);"
                + " without it, words matched whole.")
    boolean regex;

    @Parameters(arity = "1..*", paramLabel = "PATTERN", description = "The words or the regex.")
    List<String> pattern;

    @Override
    void run(Wiring wiring, FilterStore store, PrintWriter out) {
      Where where = Where.parse(scope);
      FilterRule rule = new FilterRule(String.join(" ", pattern).strip(), regex);
      wiring.core.filters().matcher().compile(rule, "PATTERN");
      boolean added =
          store.add(where.platform(), where.scopeId(), rule, dev.fluxbot.core.Requester.OPERATOR);
      out.println(FilterMessages.added(rule, where.here(), added));
    }
  }

  @Command(name = "remove", description = "Remove a filter (the pattern as listed).")
  static final class Remove extends Base {
    @Option(names = "--scope", paramLabel = "PLATFORM:ID", description = "Where it holds.")
    String scope;

    @Parameters(arity = "1..*", paramLabel = "PATTERN")
    List<String> pattern;

    @Override
    void run(Wiring wiring, FilterStore store, PrintWriter out) {
      Where where = Where.parse(scope);
      String p = String.join(" ", pattern).strip();
      out.println(
          FilterMessages.removed(
              p, where.here(), store.remove(where.platform(), where.scopeId(), p)));
    }
  }

  @Command(
      name = "list",
      description =
          "The filters of one scope, or (without --scope) every filter: fluxbot.yaml's and the"
              + " stored ones.")
  static final class ListFilters extends Base {
    @Option(names = "--scope", paramLabel = "PLATFORM:ID", description = "Only this scope's.")
    String scope;

    @Override
    void run(Wiring wiring, FilterStore store, PrintWriter out) {
      if (scope != null) {
        Where where = Where.parse(scope);
        out.println(
            FilterMessages.list(store.list(where.platform(), where.scopeId()), where.here()));
        return;
      }
      List<FilterRule> config = wiring.core.filters().installation();
      List<FilterStore.Entry> stored = store.all();
      if (config.isEmpty() && stored.isEmpty()) {
        out.println("No word filters are set. Add one with: fluxbot filter add WORDS");
        return;
      }
      for (FilterRule r : config) {
        out.println(FilterMessages.CONFIG + "\t" + r.describe());
      }
      for (FilterStore.Entry e : stored) {
        out.println(
            FilterMessages.where(e.platform(), e.scopeId())
                + "\t"
                + e.rule().describe()
                + "\t(added by "
                + e.addedBy()
                + ")");
      }
    }
  }
}
