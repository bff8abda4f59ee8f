package dev.fluxbot.core.chat;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Optional;
import javax.net.ssl.SSLException;

/**
 * A chat platform that cannot be reached at start, said the same way on every platform: one line
 * with what failed and what to check, never the SDK's stack trace, and never confused with the
 * platform refusing the token (which only the platform's answer can say).
 */
public final class Unreachable {
  private Unreachable() {}

  /** The network failure behind {@code e} (itself or a cause), if any. */
  public static Optional<IOException> cause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IOException io) {
        return Optional.of(io);
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return Optional.empty();
  }

  /**
   * The failure in words: "unknown host api.telegram.org (DNS)", "connection refused", "timed out".
   * Only a host name comes from the exception's message, so no URL (which may hold a token) does.
   */
  public static String reason(IOException e) {
    return switch (e) {
      case UnknownHostException u ->
          u.getMessage() == null || u.getMessage().isBlank()
              ? "unknown host (DNS)"
              : "unknown host " + hostOnly(u.getMessage()) + " (DNS)";
      case ConnectException c -> "connection refused";
      case NoRouteToHostException n -> "no route to the host";
      case SocketTimeoutException t -> "timed out";
      case InterruptedIOException t -> "timed out";
      case SSLException s -> "TLS handshake failed";
      default -> e.getClass().getSimpleName();
    };
  }

  /**
   * "Telegram could not be reached for getMe (connection refused). Check this machine's network and
   * DNS (api.telegram.org must be reachable), then run again."
   *
   * @param platform the platform's name as users know it
   * @param what the call that failed
   * @param where the host (or setting) that must be reachable
   */
  public static String message(String platform, String what, IOException e, String where) {
    return platform
        + " could not be reached for "
        + what
        + " ("
        + reason(e)
        + "). Check this machine's network and DNS ("
        + where
        + " must be reachable), then run again.";
  }

  private static String hostOnly(String message) {
    String first = message.strip().split("[\\s:/]", 2)[0];
    return first.matches("[A-Za-z0-9.\\-\\[\\]]{1,253}") ? first : "(name not shown)";
  }
}
