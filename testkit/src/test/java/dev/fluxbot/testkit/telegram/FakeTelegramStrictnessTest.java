package dev.fluxbot.testkit.telegram;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.FakeTelegram;
import dev.fluxbot.testkit.MutableClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.api.methods.GetMe;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.objects.MessageEntity;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.exceptions.TelegramApiException;
import org.telegram.telegrambots.meta.exceptions.TelegramApiRequestException;

/** The fake's pace, privacy mode, entities and held calls, through the real telegrambots client. */
class FakeTelegramStrictnessTest {
  private final MutableClock clock = new MutableClock();
  private FakeTelegram telegram;
  private OkHttpTelegramClient client;

  @AfterEach
  void close() {
    telegram.close();
  }

  private void start(FakeTelegram.Builder builder) {
    telegram = builder.clock(clock).start();
    client =
        new OkHttpTelegramClient(
            new OkHttpClient(),
            telegram.token(),
            new TelegramUrl("http", "127.0.0.1", telegram.port(), false));
  }

  private Message say(long chatId, String text) throws TelegramApiException {
    return client.execute(SendMessage.builder().chatId(chatId).text(text).build());
  }

  private int retryAfterOfRefused(long chatId) {
    var refused = catchRequest(() -> say(chatId, "too soon"));
    assertThat(refused.getErrorCode()).isEqualTo(429);
    return refused.getParameters().getRetryAfter();
  }

  private static TelegramApiRequestException catchRequest(ThrowingCall call) {
    try {
      call.run();
    } catch (TelegramApiRequestException e) {
      return e;
    } catch (TelegramApiException e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("the call was not refused");
  }

  @FunctionalInterface
  interface ThrowingCall {
    void run() throws TelegramApiException;
  }

  @Test
  void aMessageTooSoonInAChatIsAnswered429WithRetryAfterAndListed() throws Exception {
    start(FakeTelegram.builder().pace(Pace.TELEGRAM.withGroupGap(Duration.ofSeconds(3))));
    telegram.sendText(FakeTelegram.privateChat(FakeTelegram.ALICE), "hi");
    telegram.sendText(FakeTelegram.inGroup(FakeTelegram.BOB), "hi all");

    say(FakeTelegram.ALICE, "one");
    assertThat(retryAfterOfRefused(FakeTelegram.ALICE)).isEqualTo(1);
    say(FakeTelegram.GROUP, "another chat has its own pace");
    clock.advance(Duration.ofSeconds(1));
    say(FakeTelegram.ALICE, "two, a second later");
    assertThat(retryAfterOfRefused(FakeTelegram.GROUP)).as("a group's 3 s, 1 s in").isEqualTo(2);
    clock.advance(Duration.ofSeconds(2));
    say(FakeTelegram.GROUP, "three seconds after the first");

    assertThat(telegram.paceViolations())
        .extracting(Pace.Violation::chatId)
        .containsExactly(FakeTelegram.ALICE, FakeTelegram.GROUP);
    assertThat(telegram.paceViolations().get(1).toString())
        .contains("1000 ms after the previous one")
        .contains("at least 3000 ms apart in a group");
  }

  @Test
  void aGroupGetsTwentyMessagesAMinute() throws Exception {
    start(FakeTelegram.builder().pace(Pace.TELEGRAM));
    telegram.sendText(FakeTelegram.inGroup(FakeTelegram.BOB), "hi all");
    for (int i = 0; i < 20; i++) {
      say(FakeTelegram.GROUP, "message " + i);
      clock.advance(Duration.ofSeconds(1));
    }
    assertThat(retryAfterOfRefused(FakeTelegram.GROUP))
        .as("the first of the minute leaves at 60 s")
        .isEqualTo(40);
    assertThat(telegram.paceViolations())
        .singleElement()
        .satisfies(v -> assertThat(v.rule()).contains("20 a minute"));
  }

  @Test
  void withoutAPaceNothingIsRefused() throws Exception {
    start(FakeTelegram.builder());
    telegram.sendText(FakeTelegram.privateChat(FakeTelegram.ALICE), "hi");
    say(FakeTelegram.ALICE, "one");
    say(FakeTelegram.ALICE, "two");
    assertThat(telegram.paceViolations()).isEmpty();
  }

  @Test
  void withPrivacyModeAGroupShowsTheBotOnlyCommandsRepliesToItAndAnAlbumsCaptionedItem()
      throws Exception {
    start(FakeTelegram.builder().privacyMode(true));
    assertThat(client.execute(new GetMe()).getCanReadAllGroupMessages()).isFalse();
    var bob = FakeTelegram.inGroup(FakeTelegram.BOB);
    telegram.sendText(bob, "just chatting");
    telegram.sendText(bob, "/imagine@SomeOtherBot a fox");
    assertThat(telegram.pendingUpdates()).isZero();
    telegram.sendText(bob, "/imagine@" + telegram.botUsername() + " a fox");
    telegram.sendText(bob, "/quota");
    assertThat(telegram.pendingUpdates()).isEqualTo(2);
    byte[] png = FakeTelegramWireTest.png(8, 8, 0x336699);
    telegram.sendPhotos(
        bob, "/imagine@" + telegram.botUsername() + " blend", 1, List.of(png, png, png));
    assertThat(telegram.pendingUpdates())
        .as("of the album, only the item with the command")
        .isEqualTo(3);
    Message mine = say(FakeTelegram.GROUP, "a question");
    telegram.replyText(bob, mine.getMessageId(), "an answer");
    assertThat(telegram.pendingUpdates()).as("a reply to the bot").isEqualTo(4);
    telegram.sendText(
        FakeTelegram.privateChat(FakeTelegram.ALICE), "a private chat shows everything");
    assertThat(telegram.pendingUpdates()).isEqualTo(5);

    telegram.setAdministrator(FakeTelegram.GROUP, telegram.botId(), true);
    telegram.sendText(bob, "an administrator sees everything");
    telegram.sendPhotos(bob, null, 0, List.of(png, png));
    assertThat(telegram.pendingUpdates()).isEqualTo(8);
  }

  @Test
  void aTextLinkEntityIsKeptAndComesBackInAReplyToTheMessage() throws Exception {
    start(FakeTelegram.builder());
    var alice = FakeTelegram.privateChat(FakeTelegram.ALICE);
    telegram.sendText(alice, "hi");
    String text = "\u200Bhidden link";
    Message sent =
        client.execute(
            SendMessage.builder()
                .chatId(FakeTelegram.ALICE)
                .text(text)
                .entities(
                    List.of(
                        MessageEntity.builder()
                            .type("text_link")
                            .offset(0)
                            .length(1)
                            .url("https://t.me/bot?start=x-1")
                            .build()))
                .build());
    JsonNode reply = telegram.replyText(alice, sent.getMessageId(), "answer");
    assertThat(reply.path("reply_to_message").path("entities").get(0).path("url").asText())
        .isEqualTo("https://t.me/bot?start=x-1");

    var outside =
        catchRequest(
            () ->
                client.execute(
                    SendMessage.builder()
                        .chatId(FakeTelegram.ALICE)
                        .text("short")
                        .entities(
                            List.of(
                                MessageEntity.builder().type("bold").offset(3).length(5).build()))
                        .build()));
    assertThat(outside.getApiResponse()).startsWith("Bad Request: can't parse entities");
  }

  @Test
  void aHeldCallHasNoEffectUntilReleased() throws Exception {
    start(FakeTelegram.builder());
    telegram.sendText(FakeTelegram.privateChat(FakeTelegram.ALICE), "hi");
    Hold hold = telegram.holdNext("sendMessage");
    CompletableFuture<Message> sent =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return say(FakeTelegram.ALICE, "held");
              } catch (TelegramApiException e) {
                throw new IllegalStateException(e);
              }
            });
    hold.awaitArrived();
    assertThat(telegram.calls("sendMessage")).isEmpty();
    assertThat(sent).isNotDone();
    hold.release();
    assertThat(sent.get(10, TimeUnit.SECONDS).getText()).isEqualTo("held");
    assertThat(telegram.calls("sendMessage"))
        .singleElement()
        .satisfies(c -> assertThat(c.ok()).isTrue());
  }
}
