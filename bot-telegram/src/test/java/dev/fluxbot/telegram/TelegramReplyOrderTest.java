package dev.fluxbot.telegram;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.UserError;
import dev.fluxbot.testkit.FakeTelegram;
import dev.fluxbot.testkit.junit.FakeTelegramExtension;
import dev.fluxbot.testkit.telegram.Hold;
import java.net.URI;
import java.time.Duration;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.objects.message.Message;

/** One job's reply against the fake Bot API, with the order of its calls forced. */
class TelegramReplyOrderTest {
  private final Harness.RecordingSleeper time = new Harness.RecordingSleeper();

  @RegisterExtension
  final FakeTelegramExtension telegramFake =
      new FakeTelegramExtension(
          b ->
              b.awaitTimeout(Duration.ofSeconds(20))
                  .clock(time)
                  .pace(TelegramBotEndToEndTest.README_PACE));

  private final FakeTelegram telegram = telegramFake.get();
  private final BotApi api =
      new BotApi(
          Secret.of(telegram.token()), URI.create(telegram.baseUrl()), new OkHttpClient(), time);
  private final Pacer pacer = new Pacer(time, api);

  @Test
  void anErrorIsTheLastWordEvenWhenAStatusEditWasAlreadyOnItsWay() throws Exception {
    JsonNode command =
        telegram.sendText(FakeTelegram.privateChat(FakeTelegram.ALICE), "/imagine a fox");
    int commandId = command.path("message_id").asInt();
    Message status =
        pacer.send(
            FakeTelegram.ALICE,
            false,
            "sendMessage",
            () ->
                api.client()
                    .execute(
                        SendMessage.builder()
                            .chatId(FakeTelegram.ALICE)
                            .text("⏳ Working on it…")
                            .replyParameters(TelegramReply.replyTo(commandId))
                            .build()));
    TelegramReply reply =
        new TelegramReply(
            api,
            pacer,
            new ReplyAddress(
                FakeTelegram.ALICE, status.getMessageId(), commandId, FakeTelegram.ALICE, false));

    Hold held = telegram.holdNext("editMessageText");
    reply.progress(new Progress(Progress.Stage.GENERATING, 0.5, ""));
    held.awaitArrived(); // the status edit is in flight: decided, sent, not yet applied
    Thread failing =
        Thread.ofVirtual()
            .start(
                () ->
                    reply.failed(
                        new UserError(
                            UserError.Code.MODERATED,
                            "moderation: the output was withheld (Derivative Works Filter). Change the prompt and try again.")));
    failing.join(
        Duration.ofMillis(500)); // room for an error that does not wait its turn to land first
    held.release();
    failing.join();

    telegram.awaitCall(
        "editMessageText", c -> c.param("text").orElse("").startsWith("🎨 Generating"));
    telegram.awaitCall("editMessageText", c -> c.param("text").orElse("").startsWith("🚫"));
    assertThat(
            telegram
                .message(FakeTelegram.ALICE, status.getMessageId())
                .orElseThrow()
                .path("text")
                .asText())
        .as("the refusal stays; the status edit does not overwrite it")
        .startsWith("🚫 moderation:");
    assertThat(telegram.calls("editMessageText"))
        .extracting(c -> c.param("text").orElse(""))
        .as("in the order they were decided")
        .satisfiesExactly(
            t -> assertThat(t).startsWith("🎨 Generating"), t -> assertThat(t).startsWith("🚫"));
    assertThat(telegram.paceViolations()).isEmpty();
  }
}
