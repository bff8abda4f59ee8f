package dev.fluxbot.testkit;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** Reading a recorded request's target ({@code /path?query}), for every fake's records. */
final class RequestTargets {
  private RequestTargets() {}

  /** The path, without the query. */
  static String path(String target) {
    int q = target.indexOf('?');
    return q < 0 ? target : target.substring(0, q);
  }

  /** The first value of a query parameter, decoded. */
  static Optional<String> queryParameter(String target, String name) {
    int q = target.indexOf('?');
    if (q < 0) {
      return Optional.empty();
    }
    for (String pair : target.substring(q + 1).split("&")) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      if (key.equals(name)) {
        return Optional.of(
            eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return Optional.empty();
  }
}
