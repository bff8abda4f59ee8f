package dev.fluxbot.slack;

import dev.fluxbot.core.chat.AdminWords;
import dev.fluxbot.core.chat.ChatAdmin;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.SettingsStore;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
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
          "• `quota grant CREDITS @user`: extra credits in the current window",
          "• `quota reset @user` · `quota show @user`",
          "• `quota ban @user [reason]` · `quota unban @user`",
          "• `default-model MODEL`: the model when a command names none",
          "• `max-safety 0-5`: the highest --safety users may ask for",
          "• `filter add [--regex] PATTERN` · `filter remove PATTERN` · `filter list`: words (or a"
              + " regex) prompts here must not match",
          "• `default-n 1-4|reset`: how many images /imagine makes without --n",
          "• `enhance on|off|default`: whether prompts are enhanced when a command does not say");

  /** Slack names a user by an escaped mention or a bare id; a ban's reason arrives escaped. */
  static final AdminWords.Users USERS =
      new AdminWords.Users() {
        @Override
        public Optional<String> parse(String word) {
          Matcher m = MENTION.matcher(word);
          if (m.matches()) {
            return Optional.of(m.group(1));
          }
          return USER_ID.matcher(word).matches() ? Optional.of(word) : Optional.empty();
        }

        @Override
        public String implied() {
          return null;
        }

        @Override
        public String hint() {
          return "a mention like @alice that Slack sends as <@U…> (turn on \"Escape channels, "
              + "users, and links\" for "
              + COMMAND
              + " in the app's Slash Commands settings), or a user id";
        }

        @Override
        public String example() {
          return "@alice";
        }

        @Override
        public String text(String words) {
          return SlackText.unescape(words);
        }
      };

  private final AdminWords words;

  AdminCommands(QuotaService quota, SettingsStore settings, ModelCatalog catalog) {
    this.words =
        new AdminWords(
            new ChatAdmin(quota, settings, catalog, Texts.TEXTS, InstantSource.system()));
  }

  /** Runs one command for workspace {@code teamId}; returns the answer (mrkdwn). */
  String run(String teamId, String text) {
    List<String> w = AdminWords.words(text);
    if (w.isEmpty() || w.get(0).equals("help")) {
      return USAGE;
    }
    try {
      return words.run(new ChatAdmin.Scope("slack", teamId, "in this workspace"), w, USERS);
    } catch (AdminWords.Mistake m) {
      return Texts.TEXTS.mistake(
          Texts.escape(m.getMessage()) + ". Example: `" + COMMAND + " " + m.example() + "`.");
    }
  }
}
