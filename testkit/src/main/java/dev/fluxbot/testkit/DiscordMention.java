package dev.fluxbot.testkit;

import java.util.Objects;

/** A value for a slash command option of type USER, CHANNEL or ROLE; the fake resolves it. */
public record DiscordMention(Type type, String id) {
  /** The option types, with Discord's numbers. */
  public enum Type {
    USER(6),
    CHANNEL(7),
    ROLE(8);

    private final int optionType;

    Type(int optionType) {
      this.optionType = optionType;
    }

    public int optionType() {
      return optionType;
    }
  }

  public DiscordMention {
    Objects.requireNonNull(type, "type");
    DiscordRole.Snowflake.check("id", id);
  }

  public static DiscordMention user(String userId) {
    return new DiscordMention(Type.USER, userId);
  }

  public static DiscordMention role(String roleId) {
    return new DiscordMention(Type.ROLE, roleId);
  }

  public static DiscordMention channel(String channelId) {
    return new DiscordMention(Type.CHANNEL, channelId);
  }
}
