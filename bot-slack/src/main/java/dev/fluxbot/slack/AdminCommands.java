package dev.fluxbot.slack;

import dev.fluxbot.core.chat.ChatAdmin;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.SettingsStore;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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

  private final ChatAdmin admin;

  AdminCommands(QuotaService quota, SettingsStore settings, ModelCatalog catalog) {
    this.admin = new ChatAdmin(quota, settings, catalog, Texts.TEXTS, InstantSource.system());
  }

  /** Runs one command for workspace {@code teamId}; returns the answer (mrkdwn). */
  String run(String teamId, String text) {
    List<String> words = Arrays.asList(text.strip().split("\\s+"));
    if (text.isBlank() || words.get(0).equals("help")) {
      return USAGE;
    }
    ChatAdmin.Scope scope = new ChatAdmin.Scope("slack", teamId, "in this workspace");
    try {
      return switch (words.get(0)) {
        case "quota" -> quota(scope, words);
        case "default-model" ->
            ruled(
                () -> admin.defaultModel(scope, arg(words, 1, "model", "default-model klein")),
                "default-model klein");
        case "max-safety" ->
            ruled(
                () -> admin.maxSafety(scope, arg(words, 1, "value", "max-safety 2")),
                "max-safety 2");
        default ->
            throw new Mistake(
                "command: expected quota, default-model or max-safety; got \""
                    + Texts.escape(words.get(0))
                    + "\". Try `"
                    + COMMAND
                    + " help`.");
      };
    } catch (Mistake m) {
      return Texts.TEXTS.mistake(m.getMessage());
    }
  }

  private String quota(ChatAdmin.Scope scope, List<String> w) {
    String sub = arg(w, 1, "quota command", "quota show @alice");
    return switch (sub) {
      case "set" -> quotaSet(scope, w);
      case "grant" -> {
        String example = "quota grant @alice 10";
        String user = user(arg(w, 2, "user", example), example);
        long milli = credits(arg(w, 3, "credits", example), example);
        yield admin.grant(scope, user, milli);
      }
      case "reset" ->
          admin.reset(scope, user(arg(w, 2, "user", "quota reset @alice"), "quota reset @alice"));
      case "show" ->
          admin.show(scope, user(arg(w, 2, "user", "quota show @alice"), "quota show @alice"));
      case "ban" -> {
        String example = "quota ban @alice spamming";
        String user = user(arg(w, 2, "user", example), example);
        String reason =
            w.size() > 3 ? SlackText.unescape(String.join(" ", w.subList(3, w.size()))) : null;
        yield admin.ban(scope, user, reason);
      }
      case "unban" ->
          admin.unban(scope, user(arg(w, 2, "user", "quota unban @alice"), "quota unban @alice"));
      default ->
          throw new Mistake(
              "quota command: expected set, grant, reset, show, ban or unban; got \""
                  + Texts.escape(sub)
                  + "\". Example: `"
                  + COMMAND
                  + " quota show @alice`.");
    };
  }

  private String quotaSet(ChatAdmin.Scope scope, List<String> w) {
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
                    + Texts.escape(word)
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
    return admin.setQuota(scope, user, period, milli);
  }

  /** Runs a settings change; a broken rule is a mistake with an example. */
  private static String ruled(java.util.function.Supplier<String> change, String example) {
    try {
      return change.get();
    } catch (IllegalArgumentException e) {
      throw new Mistake(
          Texts.escape(e.getMessage()) + ". Example: `" + COMMAND + " " + example + "`.");
    }
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
      return ChatAdmin.credits(word);
    } catch (IllegalArgumentException e) {
      throw new Mistake(
          Texts.escape(e.getMessage()) + ". Example: `" + COMMAND + " " + example + "`.");
    }
  }
}
