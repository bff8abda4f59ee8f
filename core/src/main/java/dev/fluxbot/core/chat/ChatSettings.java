package dev.fluxbot.core.chat;

import dev.fluxbot.core.Messages;
import dev.fluxbot.core.Text;
import dev.fluxbot.core.model.AspectPreset;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.store.SettingsStore;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A user's own defaults for {@code /imagine} (model, aspect, format), checked and answered the same
 * way on every platform.
 */
public final class ChatSettings {
  /**
   * A change; a null field is left as it is.
   *
   * @param reset forget every default first
   */
  public record Change(boolean reset, String model, String aspect, String format) {
    public static final Change NONE = new Change(false, null, null, null);
  }

  private final SettingsStore settings;
  private final ModelCatalog catalog;
  private final ChatTexts texts;

  public ChatSettings(SettingsStore settings, ModelCatalog catalog, ChatTexts texts) {
    this.settings = settings;
    this.catalog = catalog;
    this.texts = texts;
  }

  /**
   * Applies the change and says what the defaults are now.
   *
   * @throws IllegalArgumentException naming the option, the rule and the value
   */
  public String change(String platform, String userId, Change c) {
    return change(platform, userId, c, java.util.Locale.ENGLISH);
  }

  /** {@link #change(String, String, Change)}, answered in {@code locale}'s language. */
  public String change(String platform, String userId, Change c, java.util.Locale locale) {
    SettingsStore.UserDefaults current = settings.user(platform, userId);
    SettingsStore.UserDefaults base = c.reset() ? SettingsStore.UserDefaults.NONE : current;
    SettingsStore.UserDefaults next =
        new SettingsStore.UserDefaults(
            c.model() == null ? base.model() : model(c.model()),
            c.aspect() == null ? base.aspect() : aspect(c.aspect()),
            c.format() == null ? base.format() : format(c.format()));
    if (!next.equals(current)) {
      settings.setUser(platform, userId, next);
    }
    if (c.reset()) {
      settings.counts().setUser(platform, userId, null); // --n's default goes with the rest
    }
    return Messages.format(
        locale,
        "settings.defaults",
        shown(next.model(), locale),
        shown(next.aspect(), locale),
        shown(next.format(), locale));
  }

  /**
   * Sets the user's default for {@code --n} (1 to 4), or forgets it ({@code reset}, {@code
   * default}); says what it is now. {@link #change} with {@code reset} forgets it too.
   *
   * @throws IllegalArgumentException naming --n, the rule and the value
   */
  public String changeCount(String platform, String userId, String value) {
    return changeCount(platform, userId, value, java.util.Locale.ENGLISH);
  }

  /** {@link #changeCount(String, String, String)}, answered in {@code locale}'s language. */
  public String changeCount(String platform, String userId, String value, java.util.Locale locale) {
    Integer n = count("--n", value, locale);
    settings.counts().setUser(platform, userId, n);
    return ChatTexts.countDefault(
        true, null, n == null ? null : texts.markup().bold(Integer.toString(n)), locale);
  }

  /** 1 to 4, or null for {@code reset}/{@code default}; else a refusal naming {@code field}. */
  static Integer count(String field, String value, java.util.Locale locale) {
    String v = value == null ? "" : value.strip();
    if (v.equalsIgnoreCase("reset") || v.equalsIgnoreCase("default")) {
      return null;
    }
    if (!v.matches("[1-4]")) {
      throw new IllegalArgumentException(
          Messages.format(locale, "error.count", field, Text.quote(value == null ? "" : value)));
    }
    return Integer.parseInt(v);
  }

  /**
   * Why {@code /imagine} does not answer in this channel, or empty where it does: a scope's admin
   * may limit it to some channels.
   */
  public Optional<String> channelRefusal(String platform, String scopeId, String channelId) {
    return channelRefusal(platform, scopeId, channelId, java.util.Locale.ENGLISH);
  }

  /** {@link #channelRefusal(String, String, String)} in {@code locale}'s language. */
  public Optional<String> channelRefusal(
      String platform, String scopeId, String channelId, java.util.Locale locale) {
    SettingsStore.ScopeSettings s = settings.scope(platform, scopeId);
    if (s.allows(channelId)) {
      return Optional.empty();
    }
    return Optional.of(
        "⚠️ "
            + Messages.format(
                locale,
                "settings.channel_off",
                s.allowedChannels().stream()
                    .sorted()
                    .map(texts.markup()::channel)
                    .collect(Collectors.joining(", "))));
  }

  private String shown(String value, java.util.Locale locale) {
    return value == null
        ? Messages.format(locale, "settings.default_here")
        : texts.markup().bold(value);
  }

  private String model(String value) {
    return catalog
        .find(value)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "--model: must be one of "
                        + String.join(", ", catalog.names())
                        + "; got "
                        + Text.quote(value)))
        .id();
  }

  private static String aspect(String value) {
    return AspectPreset.byId(value)
        .or(() -> ratio(value))
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "--ar: must be one of the presets "
                        + Arrays.stream(AspectPreset.values())
                            .map(p -> p.id() + " (" + p.ratio() + ")")
                            .collect(Collectors.joining(", "))
                        + "; got "
                        + Text.quote(value)))
        .id();
  }

  private static Optional<AspectPreset> ratio(String value) {
    String[] wh = value.split(":");
    try {
      return wh.length == 2
          ? AspectPreset.byRatio(Long.parseLong(wh[0]), Long.parseLong(wh[1]))
          : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static String format(String value) {
    return ImageType.fromName(value)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "--format: must be jpeg, png or webp; got " + Text.quote(value)))
        .apiName();
  }
}
