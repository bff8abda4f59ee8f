package dev.fluxbot.core;

import java.util.Objects;
import java.util.Set;

/**
 * Who asked, in platform-neutral terms.
 *
 * @param platform {@code discord}, {@code telegram}, {@code slack}, {@code cli}
 * @param scopeId the guild, workspace or chat the command came from; null in a DM or the CLI
 * @param roles the user's role ids in that scope
 * @param admin whether the platform says this user may administer the bot in that scope
 */
public record Requester(String platform, String userId, String displayName, String scopeId, Set<String> roles,
    boolean admin) {
  public Requester {
    Objects.requireNonNull(platform, "platform");
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(displayName, "displayName");
    roles = Set.copyOf(roles);
  }

  /** A stable key for per-user state: {@code discord:1234}. */
  public String key() {
    return platform + ":" + userId;
  }

  /** The operator at the command line. */
  public static Requester cli(String userId) {
    return new Requester("cli", userId, userId, null, Set.of(), true);
  }
}
