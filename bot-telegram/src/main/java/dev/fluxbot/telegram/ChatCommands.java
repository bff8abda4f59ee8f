package dev.fluxbot.telegram;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.chat.AdminWords;
import dev.fluxbot.core.chat.ChatAdmin;
import dev.fluxbot.core.chat.ChatTexts;
import dev.fluxbot.core.model.AspectPreset;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.SettingsStore;
import java.time.InstantSource;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

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
 * </pre>
 *
 * In a group the rules are that group's; in a private chat (configured admins only) they hold in
 * every chat.
 */
final class ChatCommands {
  static final String PLATFORM = "telegram";
  static final String ADMIN_HELP =
      """
      Admin commands (reply to a user's message, or give their numeric id):
      /admin quota set CREDITS [day|week|month] [USER_ID]: credits per period (no user: everyone here)
      /admin quota grant CREDITS USER_ID: extra credits in this window
      /admin quota reset USER_ID · /admin quota show USER_ID
      /admin quota ban USER_ID [reason] · /admin quota unban USER_ID
      /admin model MODEL: this group's default model
      /admin max-safety 0-5: the highest --safety users here may ask for""";

  private final QuotaService quota;
  private final SettingsStore settings;
  private final ModelCatalog catalog;
  private final InstantSource clock;
  private final ChatTexts texts;
  private final AdminWords words;

  ChatCommands(
      QuotaService quota,
      SettingsStore settings,
      ModelCatalog catalog,
      ZoneId zone,
      InstantSource clock) {
    this.quota = quota;
    this.settings = settings;
    this.catalog = catalog;
    this.clock = clock;
    this.texts = Texts.texts(zone);
    this.words = new AdminWords(new ChatAdmin(quota, settings, catalog, texts, clock));
  }

  String quota(Requester who) {
    return texts.quota(quota.status(who), clock.instant());
  }

  /**
   * {@code /settings [--model M] [--ar A] [--format F] | reset}: with nothing, shows the user's
   * defaults.
   */
  String settings(Requester who, String args) {
    SettingsStore.UserDefaults current = settings.user(PLATFORM, who.userId());
    List<String> words = words(args);
    SettingsStore.UserDefaults next = current;
    if (words.size() == 1 && words.get(0).equalsIgnoreCase("reset")) {
      next = SettingsStore.UserDefaults.NONE;
    } else {
      for (int i = 0; i < words.size(); i += 2) {
        String flag = words.get(i).toLowerCase(Locale.ROOT);
        if (i + 1 >= words.size()) {
          return "⚠️ "
              + flag
              + ": needs a value; got nothing. Example: /settings --model pro --ar 16:9 --format png";
        }
        String value = words.get(i + 1);
        switch (flag) {
          case "--model" -> {
            if (catalog.find(value).isEmpty()) {
              return "⚠️ --model: unknown model \""
                  + value
                  + "\"; known: "
                  + String.join(", ", catalog.names())
                  + ".";
            }
            next =
                new SettingsStore.UserDefaults(
                    catalog.require(value).id(), next.aspect(), next.format());
          }
          case "--ar" -> {
            var preset = aspect(value);
            if (preset == null) {
              return "⚠️ --ar: \""
                  + value
                  + "\" is not a preset; use one of "
                  + Arrays.stream(AspectPreset.values())
                      .map(p -> p.id() + " (" + p.ratio() + ")")
                      .collect(Collectors.joining(", "))
                  + ".";
            }
            next = new SettingsStore.UserDefaults(next.model(), preset.id(), next.format());
          }
          case "--format" -> {
            var type = ImageType.fromName(value);
            if (type.isEmpty()) {
              return "⚠️ --format: must be jpeg, png or webp; got \"" + value + "\".";
            }
            next =
                new SettingsStore.UserDefaults(next.model(), next.aspect(), type.get().apiName());
          }
          default -> {
            return "⚠️ /settings: unknown option \""
                + flag
                + "\"; use --model, --ar, --format, or reset.";
          }
        }
      }
    }
    if (!next.equals(current)) {
      settings.setUser(PLATFORM, who.userId(), next);
    }
    return "Your defaults: model "
        + orDefault(next.model())
        + ", aspect "
        + orDefault(next.aspect())
        + ", format "
        + orDefault(next.format())
        + ". What you type in /imagine wins over them. Change them with "
        + "/settings --model pro --ar 16:9 --format png, or /settings reset.";
  }

  private static AspectPreset aspect(String value) {
    var byId = AspectPreset.byId(value);
    if (byId.isPresent()) {
      return byId.get();
    }
    String[] wh = value.split(":");
    try {
      return wh.length == 2
          ? AspectPreset.byRatio(Long.parseLong(wh[0]), Long.parseLong(wh[1])).orElse(null)
          : null;
    } catch (NumberFormatException e) {
      return null;
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

  private static List<String> words(String args) {
    String s = args == null ? "" : args.strip();
    return s.isEmpty() ? List.of() : new ArrayList<>(Arrays.asList(s.split("\\s+")));
  }

  private static String orDefault(String value) {
    return value == null ? "(the chat's default)" : value;
  }
}
