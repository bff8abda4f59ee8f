package dev.fluxbot.testkit.discord;

import dev.fluxbot.testkit.DiscordGuild;
import dev.fluxbot.testkit.DiscordMember;
import dev.fluxbot.testkit.DiscordRole;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Who is who in the fake: the configured guilds made complete (the {@code @everyone} role, the bot
 * as a member with its managed role, a text channel), and permissions computed as Discord does.
 */
final class Guilds {
  /** One guild, complete. */
  record Guild(DiscordGuild config, String botRoleId) {
    Optional<DiscordMember> member(String userId) {
      return config.members().stream().filter(m -> m.userId().equals(userId)).findFirst();
    }

    Optional<DiscordRole> role(String roleId) {
      return config.roles().stream().filter(r -> r.id().equals(roleId)).findFirst();
    }

    /** A member's guild-wide permissions: the owner and administrators have all of them. */
    long permissions(String userId) {
      if (userId.equals(config.ownerId())) return DiscordRole.ALL;
      DiscordMember member = member(userId).orElse(null);
      long bits = role(config.id()).map(DiscordRole::permissions).orElse(0L);
      if (member != null) {
        for (String roleId : member.roleIds())
          bits |= role(roleId).map(DiscordRole::permissions).orElse(0L);
      }
      return (bits & DiscordRole.ADMINISTRATOR) != 0 ? DiscordRole.ALL : bits;
    }
  }

  private final Map<String, Guild> byId = new LinkedHashMap<>();
  private final String botUserId;
  private final String botUsername;

  Guilds(List<DiscordGuild> guilds, String botUserId, String botUsername, Snowflakes ids) {
    this.botUserId = botUserId;
    this.botUsername = botUsername;
    for (DiscordGuild guild : guilds) {
      if (byId.containsKey(guild.id()))
        throw new IllegalArgumentException("Two guilds have the id " + guild.id());
      byId.put(guild.id(), complete(guild, ids));
    }
  }

  private Guild complete(DiscordGuild guild, Snowflakes ids) {
    DiscordGuild g = guild;
    if (guild.roles().stream().noneMatch(r -> r.id().equals(guild.id()))) {
      g = g.withRole(new DiscordRole(guild.id(), "@everyone", DiscordRole.EVERYONE_DEFAULT, 0));
    }
    String botRoleId = ids.next();
    g = g.withRole(new DiscordRole(botRoleId, botUsername, DiscordRole.BOT_DEFAULT, 1));
    if (guild.members().stream().noneMatch(m -> m.userId().equals(botUserId))) {
      g = g.withMember(new DiscordMember(botUserId, botUsername, null, List.of(botRoleId)));
    }
    if (g.textChannelIds().isEmpty()) g = g.withTextChannel(ids.next());
    check(g);
    return new Guild(g, botRoleId);
  }

  private static void check(DiscordGuild g) {
    Set<String> roleIds = g.roles().stream().map(DiscordRole::id).collect(Collectors.toSet());
    if (g.members().stream().noneMatch(m -> m.userId().equals(g.ownerId()))) {
      throw new IllegalArgumentException(
          "Guild "
              + g.id()
              + ": the owner "
              + g.ownerId()
              + " must be one of its members; members are "
              + g.members().stream().map(DiscordMember::userId).toList());
    }
    for (DiscordMember m : g.members()) {
      for (String roleId : m.roleIds()) {
        if (!roleIds.contains(roleId)) {
          throw new IllegalArgumentException(
              "Guild "
                  + g.id()
                  + ": member "
                  + m.userId()
                  + " has role "
                  + roleId
                  + ", which the guild does not define; its roles are "
                  + roleIds);
        }
      }
    }
  }

  List<Guild> all() {
    return List.copyOf(byId.values());
  }

  Optional<Guild> guild(String guildId) {
    return Optional.ofNullable(guildId).map(byId::get);
  }

  /** The guild a text channel belongs to. */
  Optional<Guild> guildOfChannel(String channelId) {
    return byId.values().stream()
        .filter(g -> g.config().textChannelIds().contains(channelId))
        .findFirst();
  }

  /** A user as the fake knows them: a member of some guild, or a stranger with a made-up name. */
  DiscordMember user(String userId) {
    for (Guild g : byId.values()) {
      Optional<DiscordMember> member = g.member(userId);
      if (member.isPresent()) return member.get();
    }
    return new DiscordMember(
        userId, "user" + userId.substring(Math.max(0, userId.length() - 6)), null, List.of());
  }
}
