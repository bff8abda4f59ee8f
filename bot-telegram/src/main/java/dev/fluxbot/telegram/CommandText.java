package dev.fluxbot.telegram;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.telegram.telegrambots.meta.api.objects.EntityType;
import org.telegram.telegrambots.meta.api.objects.MessageEntity;
import org.telegram.telegrambots.meta.api.objects.message.Message;

/**
 * Finds a command at the start of a message's text or a photo's caption: {@code /imagine a fox} or
 * {@code /imagine@FluxBot a fox}. A command addressed to another bot ({@code /imagine@OtherBot}) is
 * not ours. Command and bot names match in any case.
 */
public final class CommandText {
  private final String botUsername;

  /**
   * @param botUsername this bot's username, as {@code getMe} reports it (a leading {@code @} is
   *     ignored)
   */
  public CommandText(String botUsername) {
    Objects.requireNonNull(botUsername, "botUsername");
    this.botUsername = botUsername.startsWith("@") ? botUsername.substring(1) : botUsername;
    if (!this.botUsername.matches("\\w{1,64}")) {
      throw new IllegalArgumentException(
          "botUsername: must be letters, digits and underscores; got \"" + botUsername + "\"");
    }
  }

  /**
   * The text after {@code /<command>} (stripped, possibly empty), or empty when the message is not
   * that command for this bot.
   */
  public Optional<String> argumentsOf(String command, Message message) {
    if (message.hasText()) {
      return arguments(command, message.getText(), message.getEntities());
    }
    if (message.hasCaption()) {
      return arguments(command, message.getCaption(), message.getCaptionEntities());
    }
    return Optional.empty();
  }

  Optional<String> arguments(String command, String text, List<MessageEntity> entities) {
    int end = commandEnd(text, entities);
    if (end < 0) {
      return Optional.empty();
    }
    String head = text.substring(1, end); // "imagine" or "imagine@FluxBot"
    int at = head.indexOf('@');
    String name = at < 0 ? head : head.substring(0, at);
    boolean ours =
        name.toLowerCase(Locale.ROOT).equals(command.toLowerCase(Locale.ROOT))
            && (at < 0 || head.substring(at + 1).equalsIgnoreCase(botUsername));
    return ours ? Optional.of(text.substring(end).strip()) : Optional.empty();
  }

  /**
   * Where the leading {@code /command[@bot]} ends: from its bot_command entity, else up to the
   * first space.
   */
  private static int commandEnd(String text, List<MessageEntity> entities) {
    if (!text.startsWith("/")) {
      return -1;
    }
    if (entities != null) {
      for (MessageEntity e : entities) {
        if (EntityType.BOTCOMMAND.equals(e.getType())
            && e.getOffset() != null
            && e.getOffset() == 0
            && e.getLength() != null) {
          return Math.max(1, Math.min(e.getLength(), text.length()));
        }
      }
    }
    int end = 1;
    while (end < text.length() && !Character.isWhitespace(text.charAt(end))) {
      end++;
    }
    return end;
  }
}
