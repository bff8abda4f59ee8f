package dev.fluxbot.testkit;

/**
 * Where an interaction of the fake Discord happens and who starts it: a member in a guild's text
 * channel, or a user in their DM with the bot.
 *
 * @param guildId null for a DM
 * @param channelId null for a DM: the fake opens (or reuses) the user's DM channel
 * @param locale the language of the user's Discord client, sent as the interaction's {@code locale}
 *     ({@code en-US}, {@code de}, {@code es-ES}…; see {@link #LOCALES})
 */
public record DiscordContext(String guildId, String channelId, String userId, String locale) {
  /** The locales Discord knows (its "Locales" reference), as the interaction's locale. */
  public static final java.util.Set<String> LOCALES =
      java.util.Set.of(
          "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
          "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi",
          "th", "zh-CN", "ja", "zh-TW", "ko");

  public DiscordContext {
    DiscordRole.Snowflake.check("userId", userId);
    if (!LOCALES.contains(locale)) {
      throw new IllegalArgumentException(
          "locale: must be one of Discord's locales "
              + new java.util.TreeSet<>(LOCALES)
              + "; got "
              + locale);
    }
    if ((guildId == null) != (channelId == null)) {
      throw new IllegalArgumentException(
          "A guild context needs both guildId and channelId, a DM neither. Provided: guildId="
              + guildId
              + ", channelId="
              + channelId);
    }
    if (guildId != null) {
      DiscordRole.Snowflake.check("guildId", guildId);
      DiscordRole.Snowflake.check("channelId", channelId);
    }
  }

  /** A user whose Discord client is in American English, as the fake's users are by default. */
  public DiscordContext(String guildId, String channelId, String userId) {
    this(guildId, channelId, userId, "en-US");
  }

  /** The same place and user, with the client in {@code language} ({@code de}, {@code es-ES}…). */
  public DiscordContext withLocale(String language) {
    return new DiscordContext(guildId, channelId, userId, language);
  }

  public static DiscordContext guild(String guildId, String channelId, String userId) {
    return new DiscordContext(guildId, channelId, userId);
  }

  public static DiscordContext dm(String userId) {
    return new DiscordContext(null, null, userId);
  }

  public boolean isDm() {
    return guildId == null;
  }
}
