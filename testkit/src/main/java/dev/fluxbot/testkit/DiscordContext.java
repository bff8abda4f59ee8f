package dev.fluxbot.testkit;

/**
 * Where an interaction of the fake Discord happens and who starts it: a member in a guild's text
 * channel, or a user in their DM with the bot.
 *
 * @param guildId null for a DM
 * @param channelId null for a DM: the fake opens (or reuses) the user's DM channel
 */
public record DiscordContext(String guildId, String channelId, String userId) {
  public DiscordContext {
    DiscordRole.Snowflake.check("userId", userId);
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
