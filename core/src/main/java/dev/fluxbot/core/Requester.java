package dev.fluxbot.core;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Who asked, in platform-neutral terms.
 *
 * @param platform {@code discord}, {@code telegram}, {@code slack}, {@code cli}
 * @param scopeId the guild, workspace or chat the command came from; null in a DM or the CLI
 * @param roles the user's role ids in that scope
 * @param admin whether the platform says this user may administer the bot in that scope
 * @param locale the language the platform says the user reads (Discord's interaction locale,
 *     Telegram's {@code language_code}, Slack's user locale); English where it says none
 */
public record Requester(
    String platform,
    String userId,
    String displayName,
    String scopeId,
    Set<String> roles,
    boolean admin,
    Locale locale) {
  public Requester {
    locale = locale == null ? Locale.ENGLISH : locale;
    Objects.requireNonNull(platform, "platform");
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(displayName, "displayName");
    roles = Set.copyOf(roles);
  }

  /** Someone whose platform says no language: answered in English. */
  public Requester(
      String platform,
      String userId,
      String displayName,
      String scopeId,
      Set<String> roles,
      boolean admin) {
    this(platform, userId, displayName, scopeId, roles, admin, Locale.ENGLISH);
  }

  /** The same person, reading {@code language}. */
  public Requester withLocale(Locale language) {
    return new Requester(platform, userId, displayName, scopeId, roles, admin, language);
  }

  /** A stable key for per-user state: {@code discord:1234}. */
  public String key() {
    return platform + ":" + userId;
  }

  /** The user id of the operator at the command line, whose images no quota debits. */
  public static final String OPERATOR = "operator";

  /** The operator at the command line: not debited, never banned. */
  public static Requester operator() {
    return new Requester("cli", OPERATOR, OPERATOR, null, Set.of(), true);
  }

  /** A named user at the command line ({@code fluxbot imagine --user ID}), debited like anyone. */
  public static Requester cli(String userId) {
    return new Requester("cli", userId, userId, null, Set.of(), false);
  }

  public boolean isOperator() {
    return platform.equals("cli") && userId.equals(OPERATOR);
  }
}
