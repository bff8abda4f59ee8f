package dev.fluxbot.testkit.slack;

import java.util.Objects;

/**
 * A member of the fake workspace as {@code users.info} shows them.
 *
 * @param locale the user's language as Slack writes it ({@code en-US}, {@code de-DE}); {@code
 *     users.info} returns it only when asked with {@code include_locale=true}, as Slack does
 */
public record SlackUser(String id, String name, boolean admin, boolean owner, String locale) {
  public SlackUser {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(locale, "locale");
  }

  /** A user whose Slack is in American English, Slack's default. */
  public SlackUser(String id, String name, boolean admin, boolean owner) {
    this(id, name, admin, owner, "en-US");
  }

  public static SlackUser member(String id, String name) {
    return new SlackUser(id, name, false, false);
  }

  /** A member whose Slack is set to {@code locale} ({@code de-DE}, {@code es-ES}…). */
  public static SlackUser member(String id, String name, String locale) {
    return new SlackUser(id, name, false, false, locale);
  }
}
