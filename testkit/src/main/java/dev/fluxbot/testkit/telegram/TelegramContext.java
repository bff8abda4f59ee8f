package dev.fluxbot.testkit.telegram;

/**
 * Where a user acts: a chat and the user in it.
 *
 * @param chatType {@code private}, {@code group} or {@code supergroup}
 */
public record TelegramContext(long chatId, String chatType, long userId) {
  public TelegramContext {
    if (!chatType.equals("private")
        && !chatType.equals("group")
        && !chatType.equals("supergroup")) {
      throw new IllegalArgumentException(
          "chatType: must be private, group or supergroup; got \"" + chatType + "\"");
    }
    if (chatType.equals("private") && chatId != userId) {
      throw new IllegalArgumentException(
          "a private chat's id is its user's id; got chat " + chatId + " for user " + userId);
    }
  }

  public static TelegramContext privateChat(long userId) {
    return new TelegramContext(userId, "private", userId);
  }

  public static TelegramContext group(long chatId, long userId) {
    return new TelegramContext(
        chatId, chatId < -1_000_000_000_000L ? "supergroup" : "group", userId);
  }

  public boolean isPrivate() {
    return chatType.equals("private");
  }
}
