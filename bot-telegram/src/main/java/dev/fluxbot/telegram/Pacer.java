package dev.fluxbot.telegram;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The one door to a chat: every message and edit the bot puts in a chat goes through it, one at a
 * time in the order they came, each at least the chat's interval after the previous one had its
 * answer (about one a second in a private chat, one every 3 s, twenty a minute, in a group).
 * Measuring from the answer keeps the gap at Telegram's end too, whatever the network did.
 */
final class Pacer {
  static final Duration PRIVATE = Duration.ofSeconds(1);
  static final Duration GROUP = Duration.ofSeconds(3);

  /** One chat's turn: who may send now, and when the next send may go. */
  private static final class Chat {
    final ReentrantLock turn = new ReentrantLock(true); // fair: sends go in the order they asked
    Instant nextFree = Instant.MIN;
  }

  private final InstantSource clock;
  private final BotApi api;
  private final ConcurrentMap<Long, Chat> chats = new ConcurrentHashMap<>();

  Pacer(InstantSource clock, BotApi api) {
    this.clock = clock;
    this.api = api;
  }

  /**
   * Sends in the chat's turn, once the chat's interval since its previous send has passed;
   * Telegram's answer.
   */
  <T> T send(long chatId, boolean group, String what, BotApi.Call<T> call) {
    return sendIf(() -> true, chatId, group, what, call).orElse(null);
  }

  /**
   * {@link #send}, unless {@code wanted} says no once the turn has come: then nothing is sent. What
   * decides whether to send and the send itself are one step, so a later send in the chat (a final
   * answer) cannot be overtaken by one that was decided before it.
   */
  <T> Optional<T> sendIf(
      BooleanSupplier wanted, long chatId, boolean group, String what, BotApi.Call<T> call) {
    Chat chat = chats.computeIfAbsent(chatId, id -> new Chat());
    chat.turn.lock();
    try {
      api.sleep(Duration.between(clock.instant(), chat.nextFree));
      if (!wanted.getAsBoolean()) {
        return Optional.empty();
      }
      try {
        return Optional.ofNullable(api.call(what, call));
      } finally {
        chat.nextFree = clock.instant().plus(group ? GROUP : PRIVATE);
      }
    } finally {
      chat.turn.unlock();
    }
  }

  /**
   * Runs {@code work} in the chat's turn without counting as a message (a delete keeps its place in
   * the order).
   */
  void inTurn(long chatId, Runnable work) {
    Chat chat = chats.computeIfAbsent(chatId, id -> new Chat());
    chat.turn.lock();
    try {
      work.run();
    } finally {
      chat.turn.unlock();
    }
  }
}
