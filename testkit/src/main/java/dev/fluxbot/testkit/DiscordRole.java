package dev.fluxbot.testkit;

import java.util.Objects;

/**
 * A role in a {@link DiscordGuild} of the fake Discord.
 *
 * @param permissions Discord's permission bit set, e.g. {@link #MANAGE_GUILD}
 * @param position the role's place in the hierarchy; {@code @everyone} is 0
 */
public record DiscordRole(String id, String name, long permissions, int position) {
  public static final long CREATE_INSTANT_INVITE = 1L;
  public static final long ADMINISTRATOR = 1L << 3;
  public static final long MANAGE_CHANNELS = 1L << 4;

  /** "Manage Server" in Discord's client. */
  public static final long MANAGE_GUILD = 1L << 5;

  public static final long ADD_REACTIONS = 1L << 6;
  public static final long VIEW_CHANNEL = 1L << 10;
  public static final long SEND_MESSAGES = 1L << 11;
  public static final long EMBED_LINKS = 1L << 14;
  public static final long ATTACH_FILES = 1L << 15;
  public static final long READ_MESSAGE_HISTORY = 1L << 16;
  public static final long USE_EXTERNAL_EMOJIS = 1L << 18;
  public static final long CHANGE_NICKNAME = 1L << 26;
  public static final long USE_APPLICATION_COMMANDS = 1L << 31;
  public static final long CREATE_PUBLIC_THREADS = 1L << 35;
  public static final long SEND_MESSAGES_IN_THREADS = 1L << 38;

  /** Every permission bit Discord defines today (through bit 51). */
  public static final long ALL = (1L << 52) - 1;

  /** What {@code @everyone} may do in a server Discord has just created. */
  public static final long EVERYONE_DEFAULT =
      CREATE_INSTANT_INVITE
          | ADD_REACTIONS
          | VIEW_CHANNEL
          | SEND_MESSAGES
          | EMBED_LINKS
          | ATTACH_FILES
          | READ_MESSAGE_HISTORY
          | USE_EXTERNAL_EMOJIS
          | CHANGE_NICKNAME
          | USE_APPLICATION_COMMANDS
          | CREATE_PUBLIC_THREADS
          | SEND_MESSAGES_IN_THREADS;

  /** What a bot's managed role gets when it is invited with the usual scopes. */
  public static final long BOT_DEFAULT =
      VIEW_CHANNEL
          | SEND_MESSAGES
          | EMBED_LINKS
          | ATTACH_FILES
          | READ_MESSAGE_HISTORY
          | USE_EXTERNAL_EMOJIS
          | USE_APPLICATION_COMMANDS;

  public DiscordRole {
    Snowflake.check("id", id);
    Objects.requireNonNull(name, "name");
    if (name.isBlank() || name.length() > 100) {
      throw new IllegalArgumentException(
          "A role name must have 1 to 100 characters. Provided: \"" + name + "\"");
    }
    if (permissions < 0) {
      throw new IllegalArgumentException(
          "Permissions must not be negative. Provided: " + permissions);
    }
    if (position < 0) {
      throw new IllegalArgumentException(
          "A role position must not be negative. Provided: " + position);
    }
  }

  /** A role at position 1 (just above {@code @everyone}). */
  public static DiscordRole of(String id, String name, long permissions) {
    return new DiscordRole(id, name, permissions, 1);
  }

  /** Checks the ids the fake's records take: Discord ids are unsigned 64-bit numbers in decimal. */
  static final class Snowflake {
    private Snowflake() {}

    static void check(String field, String id) {
      Objects.requireNonNull(id, field);
      if (!id.matches("[1-9][0-9]{0,19}")
          || Long.compareUnsigned(Long.parseUnsignedLong(id), 0) == 0) {
        throw new IllegalArgumentException(
            field + " must be a Discord snowflake (a decimal number). Provided: \"" + id + "\"");
      }
    }
  }
}
