package dev.fluxbot.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A server of the fake Discord, as its {@code GUILD_CREATE} describes it. The {@code @everyone}
 * role (whose id is the guild's id) gets {@link DiscordRole#EVERYONE_DEFAULT} unless {@code roles}
 * defines it; the bot joins every guild with a managed role of its own.
 *
 * @param textChannelIds the guild's text channels; the first is where interactions happen by
 *     default
 */
public record DiscordGuild(
    String id,
    String name,
    String ownerId,
    List<DiscordRole> roles,
    List<DiscordMember> members,
    List<String> textChannelIds) {
  public DiscordGuild {
    DiscordRole.Snowflake.check("id", id);
    Objects.requireNonNull(name, "name");
    if (name.length() < 2 || name.length() > 100) {
      throw new IllegalArgumentException(
          "A guild name must have 2 to 100 characters. Provided: \"" + name + "\"");
    }
    DiscordRole.Snowflake.check("ownerId", ownerId);
    roles = List.copyOf(roles);
    members = List.copyOf(members);
    textChannelIds = List.copyOf(textChannelIds);
    textChannelIds.forEach(c -> DiscordRole.Snowflake.check("textChannelIds[]", c));
  }

  /** A guild with nobody in it yet and no channels. */
  public static DiscordGuild of(String id, String name, String ownerId) {
    return new DiscordGuild(id, name, ownerId, List.of(), List.of(), List.of());
  }

  public DiscordGuild withRole(DiscordRole role) {
    return new DiscordGuild(id, name, ownerId, plus(roles, role), members, textChannelIds);
  }

  public DiscordGuild withMember(DiscordMember member) {
    return new DiscordGuild(id, name, ownerId, roles, plus(members, member), textChannelIds);
  }

  public DiscordGuild withTextChannel(String channelId) {
    return new DiscordGuild(id, name, ownerId, roles, members, plus(textChannelIds, channelId));
  }

  private static <T> List<T> plus(List<T> list, T item) {
    List<T> more = new ArrayList<>(list);
    more.add(Objects.requireNonNull(item));
    return more;
  }
}
