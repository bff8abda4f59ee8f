package dev.fluxbot.testkit;

/**
 * A gateway session's shard, {@code [id, total]} as IDENTIFY sends it; a client that sends none is
 * {@code [0, 1]}. Discord sends a guild's events and interactions to the session whose shard is
 * {@code (guild_id >> 22) % total}, and direct messages to shard 0.
 */
public record DiscordShard(int id, int total) {
  /** The shard of a client that identifies without {@code shard}. */
  public static final DiscordShard ONLY = new DiscordShard(0, 1);

  /** The most guilds one shard may hold on Discord; past it a bot must run more shards. */
  public static final int MAX_GUILDS = 2500;

  public DiscordShard {
    if (total < 1 || id < 0 || id >= total) {
      throw new IllegalArgumentException(
          "A shard is [id, total] with total >= 1 and 0 <= id < total. Provided: ["
              + id
              + ", "
              + total
              + "]");
    }
  }

  /** The shard id that a guild's events go to when a bot runs {@code total} shards. */
  public static int of(String guildId, int total) {
    DiscordRole.Snowflake.check("guildId", guildId);
    if (total < 1) {
      throw new IllegalArgumentException("total must be at least 1. Provided: " + total);
    }
    return (int) Long.remainderUnsigned(Long.parseUnsignedLong(guildId) >>> 22, total);
  }

  /** Whether this shard gets the events of that guild; of a DM ({@code null}) only shard 0 does. */
  public boolean receives(String guildId) {
    return guildId == null ? id == 0 : of(guildId, total) == id;
  }

  @Override
  public String toString() {
    return "[" + id + ", " + total + "]";
  }
}
