package dev.fluxbot.telegram;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.chat.AdminWords;
import dev.fluxbot.core.chat.ChatAdmin;
import dev.fluxbot.core.chat.ChatSettings;
import dev.fluxbot.core.chat.ChatTexts;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.SettingsStore;
import java.time.InstantSource;
import java.time.ZoneId;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code /quota}, {@code /settings} and {@code /admin} as text commands. Admin commands name their
 * user by replying to one of that user's messages or by the numeric user id:
 *
 * <pre>
 * /admin quota set CREDITS [day|week|month] [USER_ID]   (no user: everyone in this chat)
 * /admin quota grant CREDITS USER_ID
 * /admin quota reset|show|unban USER_ID
 * /admin quota ban USER_ID [reason…]
 * /admin model MODEL            this group's default model
 * /admin max-safety 0…5         the highest --safety users here may ask for
 * /admin filter add [--regex] PATTERN · remove PATTERN · list   word filters for prompts
 * /admin enhance on|off|default whether prompts are enhanced when a command does not say
 * </pre>
 *
 * In a group the rules are that group's; in a private chat (configured admins only) they hold in
 * every chat.
 */
final class ChatCommands {
  static final String PLATFORM = "telegram";
  private static final String SETTINGS_EXAMPLE = "/settings --model pro --ar 16:9 --format png";
  private static final String COUNT_EXAMPLE =
      "/settings --n 4"; // a command: the same in every language
  static final String ADMIN_HELP =
      """
      Admin commands (reply to a user's message, or give their numeric id):
      /admin quota set CREDITS [day|week|month] [USER_ID]: credits per period (no user: everyone here)
      /admin quota grant CREDITS USER_ID: extra credits in this window
      /admin quota reset USER_ID · /admin quota show USER_ID
      /admin quota ban USER_ID [reason] · /admin quota unban USER_ID
      /admin model MODEL: this group's default model
      /admin max-safety 0-5: the highest --safety users here may ask for
      /admin filter add [--regex] PATTERN · /admin filter remove PATTERN · /admin filter list: \
      words (or a regex) prompts here must not match
      /admin default-n 1-4|reset: how many images /imagine makes here without --n

      /admin enhance on|off|default: whether prompts are enhanced when a command does not say""";

  private final QuotaService quota;
  private final InstantSource clock;
  private final ChatTexts texts;
  private final AdminWords words;
  private final ChatSettings userSettings;

  ChatCommands(
      QuotaService quota,
      SettingsStore settings,
      ModelCatalog catalog,
      ZoneId zone,
      InstantSource clock) {
    this.quota = quota;
    this.clock = clock;
    this.texts = Texts.texts(zone);
    this.words = new AdminWords(new ChatAdmin(quota, settings, catalog, texts, clock));
    this.userSettings = new ChatSettings(settings, catalog, texts);
  }

  String quota(Requester who) {
    return texts.quota(quota.status(who), clock.instant());
  }

  /**
   * {@code /settings [--model M] [--ar A] [--format F] | reset}: with nothing, shows the user's
   * defaults.
   */
  String settings(Requester who, String args) {
    List<String> words = AdminWords.words(args);
    ChatSettings.Change change;
    if (words.size() == 1 && words.get(0).equalsIgnoreCase("reset")) {
      change = new ChatSettings.Change(true, null, null, null);
    } else {
      String model = null;
      String aspect = null;
      String format = null;
      String count = null;
      for (int i = 0; i < words.size(); i += 2) {
        String flag = words.get(i).toLowerCase(Locale.ROOT);
        if (i + 1 >= words.size()) {
          return texts.mistake(flag + ": needs a value; got nothing. Example: " + SETTINGS_EXAMPLE);
        }
        String value = words.get(i + 1);
        switch (flag) {
          case "--model" -> model = value;
          case "--ar" -> aspect = value;
          case "--format" -> format = value;
          case "--n" -> count = value;
          default -> {
            return texts.mistake(
                dev.fluxbot.core.Messages.format(
                    who.locale(), "telegram.settings.unknown_option", flag));
          }
        }
      }
      change = new ChatSettings.Change(false, model, aspect, format);
      if (count != null) {
        try {
          String n = userSettings.changeCount(PLATFORM, who.userId(), count, who.locale());
          if (model == null && aspect == null && format == null) {
            return n;
          }
        } catch (IllegalArgumentException e) {
          return texts.mistake(
              e.getMessage()
                  + ". "
                  + dev.fluxbot.core.Messages.format(who.locale(), "fix.example", COUNT_EXAMPLE));
        }
      }
    }
    try {
      return userSettings.change(PLATFORM, who.userId(), change, who.locale())
          + " "
          + dev.fluxbot.core.Messages.format(
              who.locale(), "telegram.settings.change", SETTINGS_EXAMPLE);
    } catch (IllegalArgumentException e) {
      return texts.mistake(e.getMessage() + ". Example: " + SETTINGS_EXAMPLE);
    }
  }

  /**
   * {@code /admin …}; the caller has checked the user's rights.
   *
   * @param scopeId the group's chat id, or null in a private chat (every chat)
   * @param repliedUserId the author of the message the command replies to, if any
   */
  String admin(String scopeId, String args, Long repliedUserId) {
    List<String> w = AdminWords.words(args);
    if (w.isEmpty() || w.get(0).equalsIgnoreCase("help")) {
      return ADMIN_HELP;
    }
    ChatAdmin.Scope scope =
        new ChatAdmin.Scope(PLATFORM, scopeId, scopeId == null ? "in every chat" : "in this group");
    try {
      return words.run(scope, w, users(repliedUserId));
    } catch (AdminWords.Mistake m) {
      return texts.mistake(m.getMessage() + ". Example: /admin " + m.example());
    }
  }

  /** Telegram names a user by the numeric id, or by replying to one of their messages. */
  static AdminWords.Users users(Long replied) {
    return new AdminWords.Users() {
      @Override
      public Optional<String> parse(String word) {
        return word.matches("\\d{1,19}") ? Optional.of(word) : Optional.empty();
      }

      @Override
      public String implied() {
        return replied == null ? null : Long.toString(replied);
      }

      @Override
      public String hint() {
        return "the user's numeric Telegram id, or reply to one of their messages";
      }

      @Override
      public String example() {
        return "123456789";
      }
    };
  }
}
