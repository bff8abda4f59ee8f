package dev.fluxbot.core.chat;

import java.util.Locale;
import java.util.Objects;

/**
 * Whether a chat platform's bot is connected now, as its adapter knows it (Discord: every shard's
 * gateway session; Telegram: the last long poll, or the webhook; Slack: the Socket Mode WebSocket,
 * or the Request URL's server). The operations listener reads it for {@code /readyz} and the {@code
 * fluxbot_platform_connected} gauge without knowing the adapter. Reading it does no I/O.
 */
public interface ChatConnection {
  /** The platform's name, as jobs record it: {@code discord}, {@code telegram}, {@code slack}. */
  String platform();

  /** The connection now. */
  Status connection();

  /** Where a connection stands. */
  enum State {
    /** Not started yet, or (re)connecting. */
    CONNECTING,
    /** Events reach the bot. */
    CONNECTED,
    /** Lost, or closed; the adapter may be trying again. */
    DISCONNECTED;

    /** {@code connecting}, {@code connected}, {@code disconnected}. */
    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * @param detail a few words for an operator ("2 of 2 shards connected", "standby: another
   *     instance polls"); never a secret
   */
  record Status(State state, String detail) {
    public Status {
      Objects.requireNonNull(state, "state");
      detail = detail == null ? "" : detail;
    }

    public boolean connected() {
      return state == State.CONNECTED;
    }

    public static Status connected(String detail) {
      return new Status(State.CONNECTED, detail);
    }

    public static Status connecting(String detail) {
      return new Status(State.CONNECTING, detail);
    }

    public static Status disconnected(String detail) {
      return new Status(State.DISCONNECTED, detail);
    }
  }
}
