package dev.fluxbot.app;

import dev.fluxbot.core.Requester;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A user, role or scope named on the command line: {@code PLATFORM:ID[@SCOPE]}, e.g. {@code
 * discord:80351110224678912@41771983423143937}; a bare {@code ID} is a CLI user.
 */
record UserSpec(String platform, String id, String scopeId) {
  private static final Pattern SPEC = Pattern.compile("(?:([a-z]+):)?([^@:\\s]+)(?:@([^@:\\s]+))?");

  static UserSpec parse(String option, String text) {
    Matcher m = SPEC.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          option
              + ": must be PLATFORM:ID[@SCOPE] (like discord:1234@5678) or a bare ID; got \""
              + text
              + "\"");
    }
    return new UserSpec(
        m.group(1) == null ? "cli" : m.group(1), m.group(2), m.group(3) == null ? "*" : m.group(3));
  }

  Requester requester(Set<String> roles) {
    return new Requester(platform, id, id, scopeId.equals("*") ? null : scopeId, roles, false);
  }

  @Override
  public String toString() {
    return platform + ":" + id + (scopeId.equals("*") ? "" : "@" + scopeId);
  }
}
