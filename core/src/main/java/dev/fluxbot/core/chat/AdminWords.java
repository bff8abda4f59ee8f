package dev.fluxbot.core.chat;

import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Text;
import dev.fluxbot.core.quota.Credits;
import dev.fluxbot.core.quota.QuotaService;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The admin commands as words after a text command (Slack's {@code /imagine-admin}, Telegram's
 * {@code /admin}), one grammar for both:
 *
 * <pre>
 * quota set CREDITS [day|week|month] [USER]   (no user: everyone in the scope)
 * quota grant CREDITS USER                    (USER CREDITS works too where a user is no number)
 * quota reset|show|unban USER
 * quota ban USER [reason…]
 * default-model MODEL                         (or: model MODEL)
 * max-safety 0-5
 * filter add [--regex] PATTERN | filter remove PATTERN | filter list   (word filters: FilterAdmin)
 * default-n 1-4|reset                         (how many images a command makes: --n)
 * enhance on|off|default                      (--enhance when a command says nothing)
 * </pre>
 *
 * A mistake is a {@link Mistake} naming the field, the rule and the value, with an example of the
 * command written right.
 */
public final class AdminWords {
  /** A command that breaks a rule: the message says which; the example shows it written right. */
  public static final class Mistake extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String example;

    Mistake(String message, String example) {
      super(message);
      this.example = example;
    }

    /** The command's words written right, without the command itself: "quota grant 10 @alice". */
    public String example() {
      return example;
    }
  }

  /** How a platform names a user in words. */
  public interface Users {
    /** The user a word names, or empty when the word is no user. */
    Optional<String> parse(String word);

    /** The user a command is about when its words name none (a replied-to author), or null. */
    String implied();

    /** How a user is named here, for errors: "a mention like @alice, or a user id". */
    String hint();

    /** A user as an example shows one: "@alice", "123456789". */
    String example();

    /** The admin's free text (a ban's reason) as typed, with the platform's escaping undone. */
    default String text(String words) {
      return words;
    }
  }

  private final ChatAdmin admin;

  public AdminWords(ChatAdmin admin) {
    this.admin = admin;
  }

  /** Runs one command (its words, at least one); returns the answer. */
  public String run(ChatAdmin.Scope scope, List<String> words, Users users) {
    try {
      return dispatch(scope, words, users);
    } catch (IllegalArgumentException e) {
      throw new Mistake(e.getMessage(), example(words, users.example(), admin.locale()));
    }
  }

  private static String example(List<String> words, String user, Locale locale) {
    String command = words.get(0).toLowerCase(Locale.ROOT);
    String sub = words.size() > 1 ? words.get(1).toLowerCase(Locale.ROOT) : "";
    return switch (command) {
      case "default-model", "model" -> command + " klein";
      case "max-safety" -> "max-safety 2";
      case "filter" -> Messages.format(locale, "admin.example.filter");
      case "default-n" -> "default-n 4";
      case "enhance" -> Messages.format(locale, "admin.example.enhance");
      default ->
          switch (sub) {
            case "set" -> "quota set 50 day " + user;
            case "grant" -> "quota grant 10 " + user;
            case "ban" -> "quota ban " + user + " spamming";
            case "reset", "unban" -> "quota " + sub + " " + user;
            default -> "quota show " + user;
          };
    };
  }

  private String dispatch(ChatAdmin.Scope scope, List<String> words, Users users) {
    String command = words.get(0).toLowerCase(Locale.ROOT);
    List<String> rest = words.subList(1, words.size());
    return switch (command) {
      case "quota" -> quota(scope, rest, users);
      case "default-model", "model" -> admin.defaultModel(scope, one(rest, "model"));
      case "max-safety" -> admin.maxSafety(scope, one(rest, "max-safety"));
      case "filter" -> admin.filters().words(scope, rest, scope.platform() + ":admin", users::text);
      case "default-n" -> admin.defaultCount(scope, one(rest, "default-n"));
      case "enhance" -> admin.enhance(scope, one(rest, "enhance"));
      default ->
          throw new IllegalArgumentException(
              Messages.format(admin.locale(), "error.admin.command", Text.quote(command)));
    };
  }

  private String quota(ChatAdmin.Scope scope, List<String> words, Users users) {
    if (words.isEmpty()) {
      throw new IllegalArgumentException(
          "quota command: expected set, grant, reset, show, ban or unban; got nothing");
    }
    String sub = words.get(0).toLowerCase(Locale.ROOT);
    List<String> args = words.subList(1, words.size());
    return switch (sub) {
      case "set" -> set(scope, args, users);
      case "grant" -> {
        Amount a = amount(args, users, false);
        yield admin.grant(scope, required(a.user, users), a.milli);
      }
      case "reset" -> admin.reset(scope, onlyUser(args, users));
      case "show" -> admin.show(scope, onlyUser(args, users));
      case "unban" -> admin.unban(scope, onlyUser(args, users));
      case "ban" -> ban(scope, args, users);
      default ->
          throw new IllegalArgumentException(
              "quota command: expected set, grant, reset, show, ban or unban; got "
                  + Text.quote(sub));
    };
  }

  private String set(ChatAdmin.Scope scope, List<String> args, Users users) {
    Amount a = amount(args, users, true);
    String user = a.user != null ? a.user : users.implied();
    return admin.setQuota(scope, user, a.period, a.milli);
  }

  private String ban(ChatAdmin.Scope scope, List<String> args, Users users) {
    Optional<String> named = args.isEmpty() ? Optional.empty() : users.parse(args.get(0));
    String user = named.orElseGet(users::implied);
    List<String> reason = named.isPresent() ? args.subList(1, args.size()) : args;
    String text = reason.isEmpty() ? null : users.text(String.join(" ", reason));
    return admin.ban(scope, required(user, users), text);
  }

  /** Credits, a user, and (for set) a period, in any order; the first number is the credits. */
  private record Amount(long milli, String user, QuotaService.Period period) {}

  private static Amount amount(List<String> args, Users users, boolean withPeriod) {
    Long milli = null;
    String user = null;
    QuotaService.Period period = null;
    for (String word : args) {
      if (withPeriod && period == null && word.matches("(?i)day|week|month")) {
        period = QuotaService.Period.valueOf(word.toUpperCase(Locale.ROOT));
      } else if (milli == null) {
        try {
          milli = Credits.parse("credits", word);
        } catch (IllegalArgumentException notCredits) {
          Optional<String> named = user == null ? users.parse(word) : Optional.empty();
          user = named.orElseThrow(() -> notCredits);
        }
      } else if (user == null) {
        user = user(word, users);
      } else {
        throw new IllegalArgumentException(
            "user: one user at a time; got " + Text.quote(word) + " as well");
      }
    }
    if (milli == null) {
      throw new IllegalArgumentException(
          "credits: missing; give a number such as 10 (1 credit = $0.01)");
    }
    return new Amount(milli, user, period == null ? QuotaService.Period.DAY : period);
  }

  private static String onlyUser(List<String> args, Users users) {
    if (args.size() > 1) {
      throw new IllegalArgumentException(
          "user: one user at a time; got " + Text.quote(String.join(" ", args)));
    }
    return required(args.isEmpty() ? null : user(args.get(0), users), users);
  }

  private static String user(String word, Users users) {
    return users
        .parse(word)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "user: expected " + users.hint() + "; got " + Text.quote(word)));
  }

  private static String required(String user, Users users) {
    String u = user != null ? user : users.implied();
    if (u == null) {
      throw new IllegalArgumentException("which user? Give " + users.hint());
    }
    return u;
  }

  private static String one(List<String> args, String field) {
    if (args.size() != 1) {
      throw new IllegalArgumentException(
          field + ": needs one value; got " + Text.quote(String.join(" ", args)));
    }
    return args.get(0);
  }

  /** Words as typed, split on white space; none for blank text. */
  public static List<String> words(String text) {
    String s = text == null ? "" : text.strip();
    return s.isEmpty() ? List.of() : new ArrayList<>(List.of(s.split("\\s+")));
  }
}
