package dev.fluxbot.telegram;

import dev.fluxbot.core.Requester;
import dev.fluxbot.core.model.AspectPreset;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.model.ModelSpec;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.SettingsStore;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.InstantSource;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
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
  private final ZoneId zone;
  private final InstantSource clock;

  ChatCommands(
      QuotaService quota,
      SettingsStore settings,
      ModelCatalog catalog,
      ZoneId zone,
      InstantSource clock) {
    this.quota = quota;
    this.settings = settings;
    this.catalog = catalog;
    this.zone = zone;
    this.clock = clock;
  }

  String quota(Requester who) {
    return Texts.quota(quota.status(who), zone, clock.instant());
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
    List<String> w = words(args);
    if (w.isEmpty()) {
      return ADMIN_HELP;
    }
    String where = scopeId == null ? "in every chat" : "in this group";
    switch (w.get(0).toLowerCase(Locale.ROOT)) {
      case "model" -> {
        if (scopeId == null) {
          return "⚠️ /admin model: sets a group's default, so send it in that group; got it in a private chat.";
        }
        if (w.size() != 2 || catalog.find(w.get(1)).isEmpty()) {
          return "⚠️ /admin model: needs one known model; got \""
              + String.join(" ", w.subList(1, w.size()))
              + "\". Known: "
              + catalog.models().stream()
                  .filter(m -> !m.preview())
                  .map(ModelSpec::id)
                  .collect(Collectors.joining(", "))
              + ".";
        }
        String model = catalog.require(w.get(1)).id();
        SettingsStore.ScopeSettings s = settings.scope(PLATFORM, scopeId);
        settings.setScope(
            PLATFORM,
            scopeId,
            new SettingsStore.ScopeSettings(model, s.maxSafety(), s.allowedChannels()));
        return "This group's default model is now " + model + ".";
      }
      case "max-safety" -> {
        if (scopeId == null) {
          return "⚠️ /admin max-safety: sets a group's cap, so send it in that group; got it in a private chat.";
        }
        Integer value =
            w.size() == 2 && w.get(1).matches("[0-5]") ? Integer.parseInt(w.get(1)) : null;
        if (value == null) {
          return "⚠️ /admin max-safety: needs a whole number from 0 (strict) to 5; got \""
              + String.join(" ", w.subList(1, w.size()))
              + "\".";
        }
        SettingsStore.ScopeSettings s = settings.scope(PLATFORM, scopeId);
        settings.setScope(
            PLATFORM,
            scopeId,
            new SettingsStore.ScopeSettings(s.defaultModel(), value, s.allowedChannels()));
        return "Users " + where + " may now ask for --safety up to " + value + ".";
      }
      case "quota" -> {
        return quotaAdmin(scopeId, w.subList(1, w.size()), repliedUserId, where);
      }
      default -> {
        return "⚠️ /admin: unknown command \"" + w.get(0) + "\".\n\n" + ADMIN_HELP;
      }
    }
  }

  private String quotaAdmin(String scopeId, List<String> w, Long replied, String where) {
    if (w.isEmpty()) {
      return ADMIN_HELP;
    }
    String sub = w.get(0).toLowerCase(Locale.ROOT);
    List<String> rest = new ArrayList<>(w.subList(1, w.size()));
    try {
      return switch (sub) {
        case "set" -> {
          long milli = credits(take(rest, "credits"));
          QuotaService.Period period = QuotaService.Period.DAY;
          if (!rest.isEmpty() && rest.get(0).matches("(?i)day|week|month")) {
            period = QuotaService.Period.valueOf(rest.remove(0).toUpperCase(Locale.ROOT));
          }
          Long user = rest.isEmpty() ? replied : userId(take(rest, "user id"));
          QuotaService.Subject subject =
              user == null
                  ? QuotaService.Subject.scope(PLATFORM, scopeId)
                  : QuotaService.Subject.user(PLATFORM, scopeId, Long.toString(user));
          quota.setRule(subject, period, milli);
          yield "Set "
              + (user == null ? "everyone " + where : "user " + user + " " + where)
              + " to "
              + Texts.creditCount(milli)
              + " per "
              + period.name().toLowerCase(Locale.ROOT)
              + ".";
        }
        case "grant" -> {
          long milli = credits(take(rest, "credits"));
          long user = target(rest, replied);
          quota.grant(PLATFORM, scopeId, Long.toString(user), milli);
          yield "Granted "
              + Texts.creditCount(milli)
              + " to user "
              + user
              + ". "
              + show(scopeId, user);
        }
        case "reset" -> {
          long user = target(rest, replied);
          quota.reset(PLATFORM, scopeId, Long.toString(user));
          yield "Reset user " + user + "'s spending in this window. " + show(scopeId, user);
        }
        case "show" -> show(scopeId, target(rest, replied));
        case "ban" -> {
          long user = target(rest, replied);
          String reason = rest.isEmpty() ? null : String.join(" ", rest);
          quota.ban(PLATFORM, scopeId, Long.toString(user), reason);
          yield "Banned user "
              + user
              + " from making images "
              + where
              + (reason == null ? "" : " (" + reason + ")")
              + ".";
        }
        case "unban" -> {
          long user = target(rest, replied);
          quota.unban(PLATFORM, scopeId, Long.toString(user));
          yield "Unbanned user " + user + " " + where + ".";
        }
        default ->
            "⚠️ /admin quota: unknown command \""
                + sub
                + "\"; use set, grant, reset, show, ban or unban.";
      };
    } catch (IllegalArgumentException e) {
      return "⚠️ /admin quota " + sub + ": " + e.getMessage();
    }
  }

  private String show(String scopeId, long user) {
    QuotaService.Status s = quota.show(PLATFORM, scopeId, Long.toString(user), Set.of());
    return "User "
        + user
        + " has "
        + s.summary()
        + "; limit from "
        + s.source()
        + (s.banned() ? "; banned" : "")
        + "; resets in "
        + Texts.span(java.time.Duration.between(clock.instant(), s.resetsAt()))
        + ".";
  }

  private static String take(List<String> rest, String what) {
    if (rest.isEmpty()) {
      throw new IllegalArgumentException(
          what + " is missing. Example: /admin quota set 20 day 123456789");
    }
    return rest.remove(0);
  }

  private static long target(List<String> rest, Long replied) {
    if (!rest.isEmpty() && rest.get(0).matches("\\d{1,19}")) {
      return userId(rest.remove(0));
    }
    if (replied != null) {
      return replied;
    }
    throw new IllegalArgumentException(
        "which user? Reply to one of their messages, or give their numeric user id.");
  }

  private static long userId(String text) {
    if (!text.matches("\\d{1,19}")) {
      throw new IllegalArgumentException(
          "user id: must be the numeric Telegram id; got \""
              + text
              + "\". Reply to one of the user's messages instead if you do not know it.");
    }
    return Long.parseLong(text);
  }

  private static long credits(String text) {
    try {
      BigDecimal credits = new BigDecimal(text);
      if (credits.signum() < 0) {
        throw new NumberFormatException();
      }
      return credits.movePointRight(3).setScale(0, RoundingMode.HALF_UP).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "credits: must be a number of 0 or more (1 credit = $0.01); got \"" + text + "\".");
    }
  }

  private static List<String> words(String args) {
    String s = args == null ? "" : args.strip();
    return s.isEmpty() ? List.of() : new ArrayList<>(Arrays.asList(s.split("\\s+")));
  }

  private static String orDefault(String value) {
    return value == null ? "(the chat's default)" : value;
  }
}
