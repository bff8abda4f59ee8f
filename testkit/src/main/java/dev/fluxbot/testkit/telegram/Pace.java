package dev.fluxbot.testkit.telegram;

import java.time.Duration;
import java.util.Objects;

/**
 * Telegram's pace for a bot's messages in one chat, played strictly on the fake's clock: a message
 * or an edit sooner than {@code perChat} (a private chat) or {@code perGroup} (a group) after the
 * chat's previous one, or a group's message beyond {@code groupPerMinute} in the last minute, is
 * answered 429 with the {@code retry_after} that would have been in time, and listed as a {@link
 * Violation}.
 */
public record Pace(Duration perChat, Duration perGroup, int groupPerMinute) {
  /**
   * What Telegram asks of bots: about one message a second in a chat, twenty a minute in a group.
   */
  public static final Pace TELEGRAM = new Pace(Duration.ofSeconds(1), Duration.ofSeconds(1), 20);

  public Pace {
    Objects.requireNonNull(perChat, "perChat");
    Objects.requireNonNull(perGroup, "perGroup");
    if (groupPerMinute < 1) {
      throw new IllegalArgumentException(
          "groupPerMinute: must be 1 or more; got " + groupPerMinute);
    }
  }

  /** The same pace with a group's messages at least {@code gap} apart. */
  public Pace withGroupGap(Duration gap) {
    return new Pace(perChat, gap, groupPerMinute);
  }

  /**
   * A message or edit that came too soon.
   *
   * @param sincePrevious the time since the chat's previous message or edit (null: the minute's
   *     count was full)
   */
  public record Violation(String method, long chatId, Duration sincePrevious, String rule) {
    @Override
    public String toString() {
      return method
          + " in chat "
          + chatId
          + (sincePrevious == null
              ? ""
              : " " + sincePrevious.toMillis() + " ms after the previous one")
          + ": "
          + rule;
    }
  }
}
