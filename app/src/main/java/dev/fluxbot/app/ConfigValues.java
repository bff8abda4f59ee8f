package dev.fluxbot.app;

import java.net.InetSocketAddress;

/**
 * The value rules {@code fluxbot.yaml}'s sections share: durations, {@code HOST:PORT} and numbers.
 * A broken rule is an {@link IllegalArgumentException} naming the field, the rule and the value.
 */
final class ConfigValues {
  private ConfigValues() {}

  /** {@code 90s}, {@code 10m}, {@code 1h} or a bare number of seconds; positive. */
  static java.time.Duration duration(String field, String text) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(\\d{1,9})\\s*(s|m|h)?").matcher(text);
    if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
      throw new IllegalArgumentException(
          field + ": must be a positive duration like 90s, 10m or 1h; got \"" + text + "\"");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2) == null ? "s" : m.group(2)) {
      case "m" -> java.time.Duration.ofMinutes(n);
      case "h" -> java.time.Duration.ofHours(n);
      default -> java.time.Duration.ofSeconds(n);
    };
  }

  /**
   * {@code HOST:PORT} (an IPv6 host in brackets) as an unresolved address; {@code example} shows
   * the form in the message.
   */
  static InetSocketAddress address(String field, String listen, String example) {
    int colon = listen.lastIndexOf(':');
    String host = colon <= 0 ? "" : listen.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = -1;
    try {
      port = Integer.parseInt(listen.substring(colon + 1));
    } catch (NumberFormatException e) {
      // reported below
    }
    if (host.isEmpty() || port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          field
              + ": must be HOST:PORT with a port 1..65535, e.g. "
              + example
              + " (or 0.0.0.0:"
              + example.substring(example.lastIndexOf(':') + 1)
              + " for every interface); got \""
              + listen
              + "\"");
    }
    return InetSocketAddress.createUnresolved(host, port);
  }

  static void nonNegative(String field, double value) {
    if (!(value >= 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(field + ": must be a number >= 0; got " + value);
    }
  }

  static void positive(String field, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(field + ": must be a positive number; got " + value);
    }
  }
}
