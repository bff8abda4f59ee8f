package dev.fluxbot.testkit.telegram;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Telegram's per-chat pace as the fake plays it, on the fake's clock: what a chat received in the
 * last minute, and every message or edit that came too soon. Used with the engine's lock held.
 */
final class Pacing {
  /**
   * The methods that put a message in a chat or change one: what Telegram's per-chat pace counts.
   */
  static final Set<String> PACED =
      Set.of(
          "sendmessage",
          "editmessagetext",
          "editmessagecaption",
          "editmessagemedia",
          "editmessagereplymarkup",
          "sendphoto",
          "senddocument",
          "sendmediagroup",
          "sendanimation",
          "sendvideo",
          "sendaudio",
          "sendsticker",
          "sendpoll",
          "senddice",
          "sendlocation",
          "sendcontact",
          "sendvoice",
          "sendvideonote",
          "copymessage",
          "forwardmessage");

  private final Pace pace; // null: none enforced
  private final InstantSource clock;
  private final Map<Long, TelegramContext> chats; // the engine's
  private final Map<Long, Deque<Instant>> paced = new HashMap<>(); // chat -> last minute's
  private final List<Pace.Violation> violations = new ArrayList<>();

  Pacing(Pace pace, InstantSource clock, Map<Long, TelegramContext> chats) {
    this.pace = pace;
    this.clock = clock;
    this.chats = chats;
  }

  /** A 429 when this message or edit comes sooner than the pace allows; null when it is in time. */
  Answer tooSoon(String method, FormData form) {
    Long chatId = pacedChat(method, form);
    if (pace == null || chatId == null || !chats.containsKey(chatId)) {
      return null;
    }
    boolean group = !chats.get(chatId).isPrivate();
    Instant now = clock.instant();
    Deque<Instant> recent = paced.getOrDefault(chatId, new ArrayDeque<>());
    recent.removeIf(t -> !t.isAfter(now.minusSeconds(60)));
    Duration gap = group ? pace.perGroup() : pace.perChat();
    Duration since = recent.isEmpty() ? null : Duration.between(recent.peekLast(), now);
    Pace.Violation v;
    Duration wait;
    if (since != null && since.compareTo(gap) < 0) {
      v =
          new Pace.Violation(
              method,
              chatId,
              since,
              "at least "
                  + gap.toMillis()
                  + " ms apart in a "
                  + (group ? "group" : "private chat"));
      wait = gap.minus(since);
    } else if (group && recent.size() >= pace.groupPerMinute()) {
      v =
          new Pace.Violation(
              method, chatId, null, "at most " + pace.groupPerMinute() + " a minute in a group");
      wait = Duration.between(now, recent.peekFirst().plusSeconds(60));
    } else {
      return null;
    }
    violations.add(v);
    int retryAfter = (int) Math.max(1, (wait.toMillis() + 999) / 1000);
    return new Answer(
        429, Answer.error(429, "Too Many Requests: retry after " + retryAfter, retryAfter));
  }

  /** Counts a message or edit the chat received. */
  void count(String method, FormData form) {
    Long chatId = pacedChat(method, form);
    if (pace != null && chatId != null) {
      paced.computeIfAbsent(chatId, c -> new ArrayDeque<>()).addLast(clock.instant());
    }
  }

  List<Pace.Violation> violations() {
    return List.copyOf(violations);
  }

  private static Long pacedChat(String method, FormData form) {
    if (!PACED.contains(method.toLowerCase(Locale.ROOT))) {
      return null;
    }
    try {
      return Long.parseLong(form.params().getOrDefault("chat_id", ""));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
