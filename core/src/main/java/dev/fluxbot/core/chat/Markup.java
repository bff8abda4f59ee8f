package dev.fluxbot.core.chat;

import java.time.Instant;

/**
 * How one chat platform writes text: what differs between Discord's markdown, Slack's mrkdwn and
 * Telegram's plain text. The words themselves are {@link ChatTexts}'s, the same everywhere.
 */
public interface Markup {
  /** Strong emphasis around text that is already safe. */
  String bold(String safeText);

  /** A user's text made safe to show: nothing in it reads as markup or a mention. */
  String escape(String userText);

  /** A user, as the platform shows a mention (or, without mentions, by id). */
  String user(String userId);

  /** A channel, as the platform links one. */
  String channel(String channelId);

  /** When something happens, for a sentence like "resets …". */
  String time(Instant at, Instant now);

  /** The most characters one message may hold. */
  int maxText();
}
