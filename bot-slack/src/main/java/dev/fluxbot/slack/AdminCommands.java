package dev.fluxbot.slack;

import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.model.ModelSpec;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.SettingsStore;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /imagine-admin …}: quotas, bans and the workspace's settings, as text after the command.
 * The caller has checked that the user may administer the bot. A mistake is answered with the
 * field, the rule, the value given and an example.
 */
final class AdminCommands {
  static final String COMMAND = "/imagine-admin";

  /** A user as Slack escapes it in a slash command: {@code <@U123|name>} or {@code <@U123>}. */
  private static final Pattern MENTION = Pattern.compile("<@([UW][A-Z0-9]+)(?:\\|[^>]*)?>");

  private static final Pattern USER_ID = Pattern.compile("[UW][A-Z0-9]{2,}");
  static final String USAGE =
      String.join(
          "\n",
          "*" + COMMAND + "* — for workspace admins and the bot's admins:",
          "• `quota set CREDITS [day|week|month] [@user]`: credits per window for a user, or everyone here",
          "• `quota grant @user CREDITS`: extra credits in the current window",
          "• `quota reset @user` · `quota show @user`",
          "• `quota ban @user [reason]` · `quota unban @user`",
          "• `default-model MODEL`: the model when a command names none",
          "• `max-safety 0-5`: the highest --safety users may ask for");

  /** A mistake in the command, answered as it is. */
  static final class Mistake extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Mistake(String message) {
      super(message, null, false, false);
    }
  }

  private final QuotaService quota;
  private final SettingsStore settings;
  private final ModelCatalog catalog;

  AdminCommands(QuotaService quota, SettingsStore settings, ModelCatalog catalog) {
    this.quota = quota;
    this.settings = settings;
    this.catalog = catalog;
  }

  /** Runs one command for workspace {@code teamId}; returns the answer (mrkdwn). */
  String run(String teamId, String text) {
    List<String> words = Arrays.asList(text.strip().split("\\s+"));
    if (text.isBlank() || words.get(0).equals("help")) {
      return USAGE;
    }
    try {
      return switch (words.get(0)) {
        case "quota" -> quota(teamId, words);
        case "default-model" -> defaultModel(teamId, arg(words, 1, "model", "default-model klein"));
        case "max-safety" -> maxSafety(teamId, arg(words, 1, "value", "max-safety 2"));
        default ->
            throw new Mistake(
                "command: expected quota, default-model or max-safety; got \""
                    + words.get(0)
                    + "\". Try `"
                    + COMMAND
                    + " help`.");
      };
    } catch (Mistake m) {
      return "⚠️ " + m.getMessage();
    }
  }

  private String quota(String teamId, List<String> w) {
    String sub = arg(w, 1, "quota command", "quota show @alice");
    return switch (sub) {
      case "set" -> quotaSet(teamId, w);
      case "grant" -> {
        String user = user(arg(w, 2, "user", "quota grant @alice 10"), "quota grant @alice 10");
        long milli =
            credits(arg(w, 3, "credits", "quota grant @alice 10"), "quota grant @alice 10");
        quota.grant("slack", teamId, user, milli);
        yield "Granted "
            + Texts.milli(milli)
            + " credits to <@"
            + user
            + ">. "
            + show(teamId, user);
      }
      case "reset" -> {
        String user = user(arg(w, 2, "user", "quota reset @alice"), "quota reset @alice");
        quota.reset("slack", teamId, user);
        yield "Reset <@" + user + ">'s spending in this window. " + show(teamId, user);
      }
      case "show" ->
          show(teamId, user(arg(w, 2, "user", "quota show @alice"), "quota show @alice"));
      case "ban" -> {
        String user =
            user(arg(w, 2, "user", "quota ban @alice spamming"), "quota ban @alice spamming");
        String reason =
            w.size() > 3 ? SlackText.unescape(String.join(" ", w.subList(3, w.size()))) : null;
        quota.ban("slack", teamId, user, reason);
        yield "Banned <@"
            + user
            + "> from making images here"
            + (reason == null ? "" : " (" + Texts.escape(reason) + ")")
            + ".";
      }
      case "unban" -> {
        String user = user(arg(w, 2, "user", "quota unban @alice"), "quota unban @alice");
        quota.unban("slack", teamId, user);
        yield "Unbanned <@" + user + ">.";
      }
      default ->
          throw new Mistake(
              "quota command: expected set, grant, reset, show, ban or unban; got \""
                  + sub
                  + "\". Example: `"
                  + COMMAND
                  + " quota show @alice`.");
    };
  }

  private String quotaSet(String teamId, List<String> w) {
    String example = "quota set 50 day @alice";
    long milli = credits(arg(w, 2, "credits", example), example);
    QuotaService.Period period = QuotaService.Period.DAY;
    String user = null;
    for (String word : w.subList(3, w.size())) {
      switch (word.toLowerCase(Locale.ROOT)) {
        case "day", "week", "month" ->
            period = QuotaService.Period.valueOf(word.toUpperCase(Locale.ROOT));
        default -> {
          if (user != null) {
            throw new Mistake(
                "quota set: takes one user; got \""
                    + word
                    + "\" after <@"
                    + user
                    + ">. Example: `"
                    + COMMAND
                    + " "
                    + example
                    + "`.");
          }
          user = user(word, example);
        }
      }
    }
    QuotaService.Subject subject =
        user == null
            ? QuotaService.Subject.scope("slack", teamId)
            : QuotaService.Subject.user("slack", teamId, user);
    quota.setRule(subject, period, milli);
    return "Set "
        + (user == null ? "everyone in this workspace" : "<@" + user + ">")
        + " to "
        + Texts.milli(milli)
        + " credits per "
        + period.name().toLowerCase(Locale.ROOT)
        + ".";
  }

  private String defaultModel(String teamId, String model) {
    ModelSpec spec =
        catalog
            .find(model)
            .filter(m -> !m.preview())
            .orElseThrow(
                () ->
                    new Mistake(
                        "model: must be one of "
                            + String.join(
                                ", ",
                                catalog.models().stream()
                                    .filter(m -> !m.preview())
                                    .map(ModelSpec::id)
                                    .toList())
                            + "; got \""
                            + model
                            + "\". Example: `"
                            + COMMAND
                            + " default-model klein`."));
    SettingsStore.ScopeSettings s = settings.scope("slack", teamId);
    settings.setScope(
        "slack",
        teamId,
        new SettingsStore.ScopeSettings(spec.id(), s.maxSafety(), s.allowedChannels()));
    return "This workspace's default model is now *" + spec.id() + "*.";
  }

  private String maxSafety(String teamId, String value) {
    int v;
    try {
      v = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      v = -1;
    }
    if (v < 0 || v > 5) {
      throw new Mistake(
          "max-safety: must be a whole number from 0 (strict) to 5; got \""
              + value
              + "\". Example: `"
              + COMMAND
              + " max-safety 2`.");
    }
    SettingsStore.ScopeSettings s = settings.scope("slack", teamId);
    settings.setScope(
        "slack", teamId, new SettingsStore.ScopeSettings(s.defaultModel(), v, s.allowedChannels()));
    return "Users here may now ask for --safety up to *" + v + "*.";
  }

  private String show(String teamId, String userId) {
    QuotaService.Status s = quota.show("slack", teamId, userId, Set.of());
    return "<@"
        + userId
        + "> has "
        + s.summary()
        + "; limit from "
        + s.source()
        + (s.banned() ? "; banned" : "")
        + "; resets "
        + Texts.date(s.resetsAt())
        + ".";
  }

  private static String arg(List<String> w, int i, String field, String example) {
    if (w.size() <= i || w.get(i).isBlank()) {
      throw new Mistake(field + ": missing. Example: `" + COMMAND + " " + example + "`.");
    }
    return w.get(i);
  }

  /** A user id from an escaped mention or a bare id. */
  static String user(String word, String example) {
    Matcher m = MENTION.matcher(word);
    if (m.matches()) {
      return m.group(1);
    }
    if (USER_ID.matcher(word).matches()) {
      return word;
    }
    throw new Mistake(
        "user: expected a mention like @alice that Slack sends as <@U…> (turn on \"Escape channels, "
            + "users, and links\" for "
            + COMMAND
            + " in the app's Slash Commands settings), or a user id; got \""
            + Texts.escape(word)
            + "\". Example: `"
            + COMMAND
            + " "
            + example
            + "`.");
  }

  static long credits(String word, String example) {
    try {
      BigDecimal c = new BigDecimal(word);
      if (c.signum() < 0 || c.scale() > 3) {
        throw new NumberFormatException();
      }
      return c.movePointRight(3).setScale(0, RoundingMode.UNNECESSARY).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw new Mistake(
          "credits: must be a number, 0 or more, with at most 3 decimals (1 credit = $0.01); got \""
              + Texts.escape(word)
              + "\". Example: `"
              + COMMAND
              + " "
              + example
              + "`.");
    }
  }
}
