package dev.fluxbot.testkit.slack;

import java.util.Objects;

/** A member of the fake workspace as {@code users.info} shows them. */
public record SlackUser(String id, String name, boolean admin, boolean owner) {
  public SlackUser {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(name, "name");
  }

  public static SlackUser member(String id, String name) {
    return new SlackUser(id, name, false, false);
  }
}
