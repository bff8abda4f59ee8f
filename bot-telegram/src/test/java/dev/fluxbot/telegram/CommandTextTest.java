package dev.fluxbot.telegram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.telegram.telegrambots.meta.api.objects.MessageEntity;
import org.telegram.telegrambots.meta.api.objects.message.Message;

class CommandTextTest {
  private final CommandText commands = new CommandText("FluxBot");

  /** A message as the Bot API sends it, read the way telegrambots reads updates. */
  private static Message message(String json) throws Exception {
    return new ObjectMapper()
        .readValue(
            """
        {"message_id": 7, "date": 1763726400, "chat": {"id": -100123, "type": "supergroup"},
         "from": {"id": 42, "is_bot": false, "first_name": "Ada"}, %s}"""
                .formatted(json),
            Message.class);
  }

  @Test
  void textCommandGivesItsArguments() throws Exception {
    Message m =
        message(
            """
        "text": "/imagine a red fox in snow --ar 16:9",
        "entities": [{"type": "bot_command", "offset": 0, "length": 8}]""");
    assertThat(commands.argumentsOf("imagine", m)).contains("a red fox in snow --ar 16:9");
  }

  @Test
  void commandAddressedToThisBotInAnyCaseIsOurs() throws Exception {
    Message m =
        message(
            """
        "text": "/imagine@fluxbot a fox",
        "entities": [{"type": "bot_command", "offset": 0, "length": 16}]""");
    assertThat(commands.argumentsOf("imagine", m)).contains("a fox");
  }

  @Test
  void commandAddressedToAnotherBotIsNotOurs() throws Exception {
    Message m =
        message(
            """
        "text": "/imagine@OtherBot a fox",
        "entities": [{"type": "bot_command", "offset": 0, "length": 17}]""");
    assertThat(commands.argumentsOf("imagine", m)).isEmpty();
  }

  @Test
  void captionOfAPhotoIsReadWithItsCaptionEntities() throws Exception {
    Message m =
        message(
            """
        "photo": [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 60}],
        "caption": "/imagine@FluxBot make it night",
        "caption_entities": [{"type": "bot_command", "offset": 0, "length": 16}]""");
    assertThat(commands.argumentsOf("imagine", m)).contains("make it night");
  }

  @Test
  void otherCommandsAndPlainTextAreNotOurs() throws Exception {
    assertThat(
            commands.argumentsOf(
                "imagine",
                message(
                    """
        "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]""")))
        .isEmpty();
    assertThat(
            commands.argumentsOf(
                "imagine",
                message(
                    """
        "text": "please /imagine a fox", "entities": [{"type": "bot_command", "offset": 7, "length": 8}]""")))
        .isEmpty();
    assertThat(commands.argumentsOf("imagine", message("\"text\": \"imagine a fox\""))).isEmpty();
    assertThat(commands.argumentsOf("imagine", message("\"sticker\": null"))).isEmpty();
  }

  @Test
  void commandWithoutArgumentsGivesEmptyText() throws Exception {
    Message m =
        message(
            """
        "text": "/imagine", "entities": [{"type": "bot_command", "offset": 0, "length": 8}]""");
    assertThat(commands.argumentsOf("imagine", m)).contains("");
  }

  @Test
  void entityOffsetsAreUtf16AsJavaStrings() throws Exception {
    // Emoji take two UTF-16 units: Telegram's offsets and Java's indices agree.
    Message m =
        message(
            """
        "text": "/imagine@FluxBot 🦊 in 🌨️",
        "entities": [{"type": "bot_command", "offset": 0, "length": 16}]""");
    assertThat(commands.argumentsOf("imagine", m)).contains("🦊 in 🌨️");
  }

  @Test
  void linesAfterTheCommandStayInThePrompt() {
    assertThat(
            commands.arguments(
                "imagine",
                "/imagine\na fox\n--seed 5",
                List.of(new MessageEntity("bot_command", 0, 8))))
        .contains("a fox\n--seed 5");
  }

  @Test
  void withoutEntitiesAPrefixCheckDecides() {
    assertThat(commands.arguments("imagine", "/imagine a fox", null)).contains("a fox");
    assertThat(commands.arguments("imagine", "/IMAGINE@FLUXBOT a fox", List.of()))
        .contains("a fox");
    assertThat(commands.arguments("imagine", "/imagine@OtherBot a fox", null)).isEmpty();
    assertThat(commands.arguments("imagine", "/imaginex a fox", null)).isEmpty();
    assertThat(commands.arguments("imagine", "/imagine", null)).contains("");
    assertThat(commands.arguments("imagine", "/", null)).isEmpty();
  }

  @Test
  void usernameMayBeGivenWithAnAt() {
    assertThat(new CommandText("@FluxBot").arguments("imagine", "/imagine@FluxBot a fox", null))
        .contains("a fox");
  }

  @Test
  void usernameThatCannotBeATelegramNameIsRefused() {
    assertThatThrownBy(() -> new CommandText("flux bot"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("botUsername: must be letters, digits and underscores; got \"flux bot\"");
  }
}
