package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.testkit.DiscordMember;
import dev.fluxbot.testkit.DiscordRole;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Discord's JSON objects (users, members, roles, channels, guilds), built from the fake's config.
 */
final class Shapes {
  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSxxx");

  private final Guilds guilds;
  private final String botUserId;

  Shapes(Guilds guilds, String botUserId) {
    this.guilds = guilds;
    this.botUserId = botUserId;
  }

  static String timestamp(Instant instant) {
    return instant.atOffset(ZoneOffset.UTC).format(TIMESTAMP);
  }

  ObjectNode user(String userId) {
    DiscordMember m = guilds.user(userId);
    boolean bot = userId.equals(botUserId);
    ObjectNode user =
        Json.object()
            .put("id", userId)
            .put("username", m.username())
            .put("discriminator", bot ? "0000" : "0")
            .put("public_flags", 0)
            .put("flags", 0)
            .putNull("avatar")
            .putNull("banner")
            .putNull("accent_color")
            .putNull("avatar_decoration_data")
            .putNull("collectibles")
            .putNull("primary_guild");
    if (m.globalName() == null) user.putNull("global_name");
    else user.put("global_name", m.globalName());
    if (bot) user.put("bot", true);
    return user;
  }

  /** The bot as {@code GET /users/@me} and {@code READY} describe it. */
  ObjectNode selfUser() {
    return user(botUserId)
        .put("verified", true)
        .put("mfa_enabled", false)
        .putNull("email")
        .put("locale", "en-US")
        .put("premium_type", 0);
  }

  ObjectNode role(DiscordRole role, Guilds.Guild guild) {
    ObjectNode json =
        Json.object()
            .put("id", role.id())
            .put("name", role.name())
            .put("permissions", Long.toString(role.permissions()))
            .put("position", role.position())
            .put("color", 0)
            .put("hoist", false)
            .put("managed", role.id().equals(guild.botRoleId()))
            .put("mentionable", false)
            .putNull("icon")
            .putNull("unicode_emoji")
            .put("flags", 0);
    json.putObject("colors")
        .put("primary_color", 0)
        .putNull("secondary_color")
        .putNull("tertiary_color");
    if (role.id().equals(guild.botRoleId())) json.putObject("tags").put("bot_id", botUserId);
    return json;
  }

  ObjectNode member(Guilds.Guild guild, DiscordMember member, Instant joinedAt) {
    ObjectNode json = Json.object();
    json.set("user", user(member.userId()));
    ArrayNode roles = json.putArray("roles");
    member.roleIds().forEach(roles::add);
    return json.putNull("nick")
        .putNull("avatar")
        .putNull("banner")
        .put("joined_at", timestamp(joinedAt))
        .putNull("premium_since")
        .put("deaf", false)
        .put("mute", false)
        .put("flags", 0)
        .put("pending", false)
        .putNull("communication_disabled_until");
  }

  /** A member as an interaction carries them, with their permissions in the channel. */
  ObjectNode interactionMember(Guilds.Guild guild, String userId, Instant joinedAt) {
    DiscordMember member =
        guild
            .member(userId)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "User "
                            + userId
                            + " is not a member of guild "
                            + guild.config().id()
                            + "; its members are "
                            + guild.config().members().stream()
                                .map(DiscordMember::userId)
                                .toList()));
    return member(guild, member, joinedAt)
        .put("permissions", Long.toString(guild.permissions(userId)));
  }

  ObjectNode textChannel(Guilds.Guild guild, String channelId) {
    int position = guild.config().textChannelIds().indexOf(channelId);
    return Json.object()
        .put("id", channelId)
        .put("type", 0)
        .put("guild_id", guild.config().id())
        .put("name", position == 0 ? "general" : "channel-" + position)
        .put("position", Math.max(0, position))
        .<ObjectNode>set("permission_overwrites", Json.array())
        .put("nsfw", false)
        .putNull("parent_id")
        .putNull("topic")
        .putNull("last_message_id")
        .put("rate_limit_per_user", 0)
        .put("flags", 0);
  }

  ObjectNode dmChannel(String channelId, String recipientId) {
    ObjectNode json =
        Json.object()
            .put("id", channelId)
            .put("type", 1)
            .putNull("last_message_id")
            .put("flags", 0);
    json.putArray("recipients").add(user(recipientId));
    return json;
  }

  /** The {@code GUILD_CREATE} payload: everything JDA needs to cache the guild. */
  ObjectNode guildCreate(Guilds.Guild guild, Instant joinedAt) {
    var config = guild.config();
    ObjectNode json =
        Json.object()
            .put("id", config.id())
            .put("name", config.name())
            .putNull("icon")
            .putNull("splash")
            .putNull("banner")
            .putNull("description")
            .put("owner_id", config.ownerId())
            .putNull("afk_channel_id")
            .put("afk_timeout", 300)
            .put("verification_level", 0)
            .put("default_message_notifications", 0)
            .put("explicit_content_filter", 0)
            .put("mfa_level", 0)
            .put("system_channel_id", config.textChannelIds().get(0))
            .put("system_channel_flags", 0)
            .putNull("rules_channel_id")
            .putNull("public_updates_channel_id")
            .putNull("safety_alerts_channel_id")
            .put("max_members", 500000)
            .putNull("vanity_url_code")
            .put("premium_tier", 0)
            .put("premium_subscription_count", 0)
            .put("preferred_locale", "en-US")
            .put("nsfw_level", 0)
            .put("premium_progress_bar_enabled", false)
            .put("joined_at", timestamp(joinedAt))
            .put("large", false)
            .put("unavailable", false)
            .put("member_count", config.members().size())
            .put("lazy", true);
    json.putArray("features");
    ArrayNode roles = json.putArray("roles");
    config.roles().forEach(r -> roles.add(role(r, guild)));
    ArrayNode members = json.putArray("members");
    config.members().forEach(m -> members.add(member(guild, m, joinedAt)));
    ArrayNode channels = json.putArray("channels");
    config.textChannelIds().forEach(c -> channels.add(textChannel(guild, c).without("guild_id")));
    for (String empty :
        List.of(
            "threads",
            "emojis",
            "stickers",
            "voice_states",
            "presences",
            "stage_instances",
            "guild_scheduled_events",
            "soundboard_sounds",
            "embedded_activities")) {
      json.putArray(empty);
    }
    return json;
  }
}
