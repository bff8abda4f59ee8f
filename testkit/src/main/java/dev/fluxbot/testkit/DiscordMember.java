package dev.fluxbot.testkit;

import java.util.List;
import java.util.Objects;

/**
 * A user who is a member of a {@link DiscordGuild} of the fake Discord.
 *
 * @param globalName the display name, or null to show {@code username}
 * @param roleIds the member's roles, besides {@code @everyone}
 */
public record DiscordMember(
    String userId, String username, String globalName, List<String> roleIds) {
  public DiscordMember {
    DiscordRole.Snowflake.check("userId", userId);
    Objects.requireNonNull(username, "username");
    if (!username.matches("[a-z0-9_.]{2,32}")) {
      throw new IllegalArgumentException(
          "A username must have 2 to 32 characters of a-z, 0-9, _ and . Provided: \""
              + username
              + "\"");
    }
    roleIds = List.copyOf(roleIds);
    roleIds.forEach(id -> DiscordRole.Snowflake.check("roleIds[]", id));
  }

  public static DiscordMember of(String userId, String username, String... roleIds) {
    return new DiscordMember(userId, username, null, List.of(roleIds));
  }
}
