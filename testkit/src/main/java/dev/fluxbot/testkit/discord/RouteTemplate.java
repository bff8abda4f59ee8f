package dev.fluxbot.testkit.discord;

import java.util.Locale;
import java.util.Objects;

/**
 * A route as tests name it: an optional method, then a path below {@code /api/v10} in which each
 * {@code {…}} segment matches any one segment, e.g. {@code PATCH
 * /webhooks/{app}/{token}/messages/@original}.
 */
record RouteTemplate(String method, String[] segments, String text) {
  static RouteTemplate parse(String route) {
    Objects.requireNonNull(route, "route");
    String trimmed = route.trim();
    int space = trimmed.indexOf(' ');
    String method = space < 0 ? null : trimmed.substring(0, space).toUpperCase(Locale.ROOT);
    String path = space < 0 ? trimmed : trimmed.substring(space + 1).trim();
    if (path.startsWith("/api/v10/")) path = path.substring("/api/v10".length());
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException(
          "A route is [METHOD ]/path below /api/v10, with {name} for any one segment."
              + " Provided: \""
              + route
              + "\"");
    }
    return new RouteTemplate(method, path.substring(1).split("/", -1), trimmed);
  }

  boolean matches(String requestMethod, String route) {
    if (method != null && !method.equalsIgnoreCase(requestMethod)) return false;
    String[] actual = (route.startsWith("/") ? route.substring(1) : route).split("/", -1);
    if (actual.length != segments.length) return false;
    for (int i = 0; i < actual.length; i++) {
      boolean wildcard = segments[i].startsWith("{") && segments[i].endsWith("}");
      if (!wildcard && !segments[i].equals(actual[i])) return false;
    }
    return true;
  }

  @Override
  public String toString() {
    return text;
  }
}
