package dev.fluxbot.app;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.quota.Credits;
import dev.fluxbot.core.quota.QuotaService;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fluxbot quota …}: the admin operations, on the same store the bot uses. */
@Command(
    name = "quota",
    mixinStandardHelpOptions = true,
    description = {
      "Credits and bans, on the store the bot uses.",
      "Users, roles and scopes are PLATFORM:ID[@SCOPE] (like discord:1234@5678); a bare ID is a CLI user."
    },
    subcommands = {
      QuotaCli.Set.class,
      QuotaCli.Grant.class,
      QuotaCli.Show.class,
      QuotaCli.Reset.class,
      QuotaCli.Ban.class,
      QuotaCli.Unban.class,
      QuotaCli.Usage.class
    })
final class QuotaCli {
  @CommandLine.ParentCommand Main main;

  /** The shared start of every quota command: open the store, run, report. */
  abstract static class Base implements Callable<Integer> {
    @CommandLine.ParentCommand QuotaCli parent;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public final Integer call() {
      return parent.main.withStore(
          spec,
          (wiring, out, err) -> {
            run(wiring.quota, out);
            return Main.OK;
          });
    }

    abstract void run(QuotaService quota, PrintWriter out);
  }

  /** Exactly one of --user, --role, --scope. */
  static final class Target {
    @Option(names = "--user", paramLabel = "PLATFORM:ID[@SCOPE]", description = "A user.")
    String user;

    @Option(names = "--role", paramLabel = "PLATFORM:ROLE[@SCOPE]", description = "A role.")
    String role;

    @Option(
        names = "--scope",
        paramLabel = "PLATFORM:SCOPE",
        description = "A guild, workspace or chat ('*' for all).")
    String scope;

    QuotaService.Subject subject() {
      if (user != null) {
        UserSpec u = UserSpec.parse("--user", user);
        return QuotaService.Subject.user(u.platform(), u.scopeId(), u.id());
      }
      if (role != null) {
        UserSpec r = UserSpec.parse("--role", role);
        return QuotaService.Subject.role(r.platform(), r.scopeId(), r.id());
      }
      UserSpec s = UserSpec.parse("--scope", scope);
      return QuotaService.Subject.scope(s.platform(), s.id());
    }
  }

  @Command(
      name = "set",
      description = "Credits per period for a user, a role or a scope (the most specific wins).")
  static final class Set extends Base {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    @Option(
        names = "--credits",
        required = true,
        description = "Credits per period (1 credit = $0.01).")
    BigDecimal credits;

    @Option(
        names = "--period",
        defaultValue = "day",
        description = "day, week or month (default: day).")
    String period;

    @Override
    void run(QuotaService quota, PrintWriter out) {
      QuotaService.Period p = Wiring.period(period, "--period");
      QuotaService.Subject subject = target.subject();
      quota.setRule(subject, p, milli("--credits", credits));
      out.println(
          "Set "
              + describe(subject)
              + " to "
              + credits.stripTrailingZeros().toPlainString()
              + " credits per "
              + p.name().toLowerCase(Locale.ROOT)
              + ".");
    }
  }

  @Command(name = "grant", description = "Extra credits for a user in the current window.")
  static final class Grant extends Base {
    @Option(names = "--user", required = true, paramLabel = "PLATFORM:ID[@SCOPE]")
    String user;

    @Option(names = "--credits", required = true)
    BigDecimal credits;

    @Override
    void run(QuotaService quota, PrintWriter out) {
      UserSpec u = UserSpec.parse("--user", user);
      quota.grant(u.platform(), u.scopeId(), u.id(), milli("--credits", credits));
      out.println(
          "Granted " + credits.stripTrailingZeros().toPlainString() + " credits to " + u + ".");
      print(quota.show(u.platform(), u.scopeId(), u.id(), java.util.Set.of()), u, out);
    }
  }

  @Command(name = "show", description = "A user's credits, usage and reset time.")
  static final class Show extends Base {
    @Option(names = "--user", required = true, paramLabel = "PLATFORM:ID[@SCOPE]")
    String user;

    @Option(
        names = "--roles",
        split = ",",
        paramLabel = "ROLE",
        description = "The user's roles in that scope.")
    List<String> roles = List.of();

    @Override
    void run(QuotaService quota, PrintWriter out) {
      UserSpec u = UserSpec.parse("--user", user);
      print(quota.show(u.platform(), u.scopeId(), u.id(), new HashSet<>(roles)), u, out);
    }
  }

  @Command(
      name = "reset",
      description = "Clears a user's spending and grants in the current window.")
  static final class Reset extends Base {
    @Option(names = "--user", required = true, paramLabel = "PLATFORM:ID[@SCOPE]")
    String user;

    @Override
    void run(QuotaService quota, PrintWriter out) {
      UserSpec u = UserSpec.parse("--user", user);
      quota.reset(u.platform(), u.scopeId(), u.id());
      out.println("Reset " + u + ".");
      print(quota.show(u.platform(), u.scopeId(), u.id(), java.util.Set.of()), u, out);
    }
  }

  @Command(
      name = "ban",
      description = "Stops a user from making images (in one scope, or '*' for all).")
  static final class Ban extends Base {
    @Option(names = "--user", required = true, paramLabel = "PLATFORM:ID[@SCOPE]")
    String user;

    @Option(names = "--reason", description = "Kept with the ban.")
    String reason;

    @Override
    void run(QuotaService quota, PrintWriter out) {
      UserSpec u = UserSpec.parse("--user", user);
      quota.ban(u.platform(), u.scopeId(), u.id(), reason);
      out.println("Banned " + u + (reason == null ? "" : " (" + reason + ")") + ".");
    }
  }

  @Command(name = "unban", description = "Lifts a ban.")
  static final class Unban extends Base {
    @Option(names = "--user", required = true, paramLabel = "PLATFORM:ID[@SCOPE]")
    String user;

    @Override
    void run(QuotaService quota, PrintWriter out) {
      UserSpec u = UserSpec.parse("--user", user);
      quota.unban(u.platform(), u.scopeId(), u.id());
      out.println("Unbanned " + u + ".");
    }
  }

  @Command(
      name = "usage",
      description =
          "Images made and credits charged per user and model (the operator's too, never debited).")
  static final class Usage extends Base {
    @Option(
        names = "--days",
        defaultValue = "30",
        description = "How many days back (default: 30).")
    int days;

    @Override
    void run(QuotaService quota, PrintWriter out) {
      if (days < 1) {
        throw new IllegalArgumentException("--days: must be 1 or more; got " + days);
      }
      Instant to = Instant.now();
      List<QuotaService.UsageRow> rows = quota.usage(to.minus(Duration.ofDays(days)), to);
      out.printf(Locale.ROOT, "%-40s %-18s %6s %10s%n", "user", "model", "images", "credits");
      for (QuotaService.UsageRow r : rows) {
        String who =
            r.platform() + ":" + r.userId() + ("*".equals(r.scopeId()) ? "" : "@" + r.scopeId());
        if ("cli".equals(r.platform()) && Requester.OPERATOR.equals(r.userId())) {
          who = "operator (not debited)";
        }
        out.printf(
            Locale.ROOT,
            "%-40s %-18s %6d %10s%n",
            who,
            r.modelId(),
            r.jobs(),
            credits(r.creditsMilli()));
      }
      if (rows.isEmpty()) {
        out.println("(no images in the last " + days + " days)");
      }
    }
  }

  /**
   * The most credits a rule or a grant may name: a billion ($10 million), far past any real budget.
   */
  static long milli(String field, BigDecimal credits) {
    try {
      return Credits.parse(field, credits);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + ". Example: " + field + " 50");
    }
  }

  static String credits(long milli) {
    return BigDecimal.valueOf(milli).movePointLeft(3).stripTrailingZeros().toPlainString();
  }

  static String describe(QuotaService.Subject s) {
    String scope = "*".equals(s.scopeId()) ? "every scope" : "scope " + s.scopeId();
    return switch (s.kind()) {
      case USER -> "user " + s.platform() + ":" + s.id() + " in " + scope;
      case ROLE -> "role " + s.platform() + ":" + s.id() + " in " + scope;
      case SCOPE -> s.platform() + " " + scope;
    };
  }

  static void print(QuotaService.Status s, UserSpec u, PrintWriter out) {
    out.println(
        u
            + ": "
            + credits(s.leftMilli())
            + " of "
            + credits(s.limitMilli() + s.grantedMilli())
            + " credits left "
            + switch (s.period()) {
              case DAY -> "today";
              case WEEK -> "this week";
              case MONTH -> "this month";
            }
            + " (spent "
            + credits(s.spentMilli())
            + ", held by running jobs "
            + credits(s.reservedMilli())
            + ", granted "
            + credits(s.grantedMilli())
            + "; limit from "
            + s.source()
            + ")"
            + (s.banned() ? "; BANNED" : ""));
    out.println(
        "  window "
            + DateTimeFormatter.ISO_INSTANT.format(s.windowStart())
            + " to "
            + DateTimeFormatter.ISO_INSTANT.format(s.resetsAt()));
  }
}
