package dev.fluxbot.testkit.telegram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.FakeTelegram;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.longpolling.TelegramBotsLongPollingApplication;
import org.telegram.telegrambots.longpolling.util.LongPollingSingleThreadUpdateConsumer;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.api.methods.AnswerCallbackQuery;
import org.telegram.telegrambots.meta.api.methods.GetFile;
import org.telegram.telegrambots.meta.api.methods.GetMe;
import org.telegram.telegrambots.meta.api.methods.groupadministration.GetChatMember;
import org.telegram.telegrambots.meta.api.methods.send.SendDocument;
import org.telegram.telegrambots.meta.api.methods.send.SendMediaGroup;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.methods.send.SendPhoto;
import org.telegram.telegrambots.meta.api.methods.updatingmessages.EditMessageText;
import org.telegram.telegrambots.meta.api.objects.InputFile;
import org.telegram.telegrambots.meta.api.objects.Update;
import org.telegram.telegrambots.meta.api.objects.chatmember.ChatMember;
import org.telegram.telegrambots.meta.api.objects.media.InputMediaPhoto;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.api.objects.photo.PhotoSize;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.InlineKeyboardMarkup;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.buttons.InlineKeyboardButton;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.buttons.InlineKeyboardRow;
import org.telegram.telegrambots.meta.exceptions.TelegramApiException;
import org.telegram.telegrambots.meta.exceptions.TelegramApiRequestException;

/** The real telegrambots client (OkHttp client and long polling) against the fake Bot API. */
class FakeTelegramWireTest {
  private static final Duration TEN_SECONDS = Duration.ofSeconds(10);

  private final FakeTelegram telegram = FakeTelegram.start();
  private final OkHttpClient http = new OkHttpClient();
  private final TelegramUrl url = new TelegramUrl("http", "127.0.0.1", telegram.port(), false);
  private final OkHttpTelegramClient client = new OkHttpTelegramClient(http, telegram.token(), url);
  private final BlockingQueue<Update> received = new LinkedBlockingQueue<>();
  private TelegramBotsLongPollingApplication polling;

  @AfterEach
  void close() throws Exception {
    if (polling != null) {
      polling.close();
    }
    telegram.close();
  }

  private void startPolling() throws Exception {
    polling = new TelegramBotsLongPollingApplication();
    polling.registerBot(
        telegram.token(),
        () -> url,
        last ->
            org.telegram.telegrambots.meta.api.methods.updates.GetUpdates.builder()
                .offset(last + 1)
                .timeout(1)
                .build(),
        (LongPollingSingleThreadUpdateConsumer) received::add);
  }

  private Update next() throws InterruptedException {
    Update u = received.poll(10, TimeUnit.SECONDS);
    assertThat(u).as("an update within 10 s").isNotNull();
    return u;
  }

  static byte[] png(int w, int h, int rgb) throws IOException {
    BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        image.setRGB(x, y, rgb ^ (x * 7 + y * 13));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  @Test
  void getMeAnswersTheBotAndAWrongTokenIsUnauthorized() throws Exception {
    assertThat(client.execute(new GetMe()).getUserName())
        .isEqualTo(FakeTelegram.DEFAULT_BOT_USERNAME);
    OkHttpTelegramClient wrong = new OkHttpTelegramClient(http, "1:wrong", url);
    assertThatThrownBy(() -> wrong.execute(new GetMe()))
        .isInstanceOf(TelegramApiRequestException.class)
        .satisfies(
            e -> assertThat(((TelegramApiRequestException) e).getErrorCode()).isEqualTo(401));
  }

  @Test
  void longPollingDeliversTextAlbumsAndRepliesInOrderAndConfirmsThemByOffset() throws Exception {
    startPolling();
    var alice = FakeTelegram.privateChat(FakeTelegram.ALICE);
    telegram.sendText(alice, "/imagine@" + telegram.botUsername() + " a fox");
    Update text = next();
    assertThat(text.getMessage().getText()).isEqualTo("/imagine@fluxbot_test_bot a fox");
    assertThat(text.getMessage().getEntities())
        .singleElement()
        .satisfies(e -> assertThat(e.getLength()).isEqualTo("/imagine@fluxbot_test_bot".length()));
    assertThat(text.getMessage().getChat().isUserChat()).isTrue();

    byte[] a = png(40, 30, 0x112233);
    byte[] b = png(50, 20, 0x445566);
    byte[] c = png(30, 60, 0x778899);
    var album =
        telegram.sendPhotos(
            FakeTelegram.inGroup(FakeTelegram.BOB), "/imagine mix them", 1, List.of(a, b, c));
    List<Message> items = List.of(next().getMessage(), next().getMessage(), next().getMessage());
    assertThat(items)
        .extracting(Message::getMediaGroupId)
        .containsOnly(album.get(0).path("media_group_id").asText())
        .doesNotContainNull();
    assertThat(items.get(1).getCaption()).isEqualTo("/imagine mix them");
    assertThat(items.get(1).getCaptionEntities()).hasSize(1);
    assertThat(items.get(0).getCaption()).isNull();
    PhotoSize largest = items.get(2).getPhoto().get(items.get(2).getPhoto().size() - 1);
    assertThat(largest.getWidth()).isEqualTo(30);
    assertThat(largest.getHeight()).isEqualTo(60);
    assertThat(items.get(2).getPhoto().get(0).getWidth()).isLessThanOrEqualTo(90);

    telegram.replyText(
        FakeTelegram.inGroup(FakeTelegram.BOB), items.get(0).getMessageId(), "/imagine again");
    Message reply = next().getMessage();
    assertThat(reply.getReplyToMessage().getMessageId()).isEqualTo(items.get(0).getMessageId());
    assertThat(reply.getReplyToMessage().getPhoto()).isNotEmpty();

    Await.until(
        "the updates confirmed by the next offset",
        TEN_SECONDS,
        () -> telegram.pendingUpdates() == 0);
    assertThat(telegram.calls("deleteWebhook")).isNotEmpty();
  }

  @Test
  void filesDownloadFromTheFakesBaseUrlAfterGetFile() throws Exception {
    byte[] image = png(200, 150, 0xABCDEF);
    var sent = telegram.sendPhotos(FakeTelegram.privateChat(FakeTelegram.ALICE), "look", image);
    var sizes = sent.get(0).path("photo");
    assertThat(sizes).as("a thumbnail, then the image").hasSize(2);
    assertThat(sizes.get(0).path("width").asInt()).isEqualTo(90);
    String fileId = sizes.get(1).path("file_id").asText();
    var file = client.execute(new GetFile(fileId));
    assertThat(file.getFileSize()).isEqualTo(image.length);
    try (Response r =
        http.newCall(
                new Request.Builder()
                    .url(
                        telegram.baseUrl()
                            + "/file/bot"
                            + telegram.token()
                            + "/"
                            + file.getFilePath())
                    .build())
            .execute()) {
      assertThat(r.code()).isEqualTo(200);
      assertThat(r.body().bytes()).isEqualTo(image);
    }
    assertThat(telegram.calls("file")).singleElement().satisfies(c -> assertThat(c.ok()).isTrue());
    assertThatThrownBy(() -> client.execute(new GetFile("nope")))
        .isInstanceOf(TelegramApiRequestException.class)
        .hasMessageContaining("invalid file_id");
  }

  @Test
  void anEditThatCanBeSeenIsAlreadyAmongTheRecordedCalls() throws Exception {
    telegram.sendText(FakeTelegram.privateChat(FakeTelegram.ALICE), "hi");
    Message sent =
        client.execute(SendMessage.builder().chatId(FakeTelegram.ALICE).text("0").build());
    int edits = 300;
    CompletableFuture<Void> editor =
        CompletableFuture.runAsync(
            () -> {
              for (int i = 1; i <= edits; i++) {
                try {
                  client.execute(
                      EditMessageText.builder()
                          .chatId(FakeTelegram.ALICE)
                          .messageId(sent.getMessageId())
                          .text(String.valueOf(i))
                          .build());
                } catch (TelegramApiException e) {
                  throw new IllegalStateException(e);
                }
              }
            });
    int seen;
    do {
      seen =
          telegram
              .message(FakeTelegram.ALICE, sent.getMessageId())
              .orElseThrow()
              .path("text")
              .asInt();
      assertThat(telegram.calls("editMessageText"))
          .as("editMessageText calls once edit %d is visible", seen)
          .hasSizeGreaterThanOrEqualTo(seen);
    } while (!editor.isDone());
    editor.get(30, TimeUnit.SECONDS);
    assertThat(telegram.calls("editMessageText")).hasSize(edits);
  }

  @Test
  void sentPhotosKeepTheirMultipartPartsCaptionAndButtonsAndAPressComesBackAsACallbackQuery()
      throws Exception {
    startPolling();
    var alice = FakeTelegram.privateChat(FakeTelegram.ALICE);
    telegram.sendText(alice, "hi");
    Message hi = next().getMessage();
    byte[] image = png(80, 60, 0x102030);
    InlineKeyboardMarkup keyboard =
        new InlineKeyboardMarkup(
            List.of(
                new InlineKeyboardRow(
                    InlineKeyboardButton.builder()
                        .text("Reroll")
                        .callbackData("fx:reroll:01JOB")
                        .build())));
    Message photo =
        client.execute(
            SendPhoto.builder()
                .chatId(FakeTelegram.ALICE)
                .photo(new InputFile(new java.io.ByteArrayInputStream(image), "fluxbot-1.png"))
                .caption("a fox")
                .replyMarkup(keyboard)
                .replyToMessageId(hi.getMessageId())
                .build());
    assertThat(photo.getCaption()).isEqualTo("a fox");
    assertThat(photo.getReplyToMessage().getMessageId()).isEqualTo(hi.getMessageId());
    var call = telegram.awaitCall("sendPhoto", c -> true);
    assertThat(call.file("photo"))
        .hasValueSatisfying(
            p -> {
              assertThat(p.bytes()).isEqualTo(image);
              assertThat(p.filename()).isEqualTo("fluxbot-1.png");
            });
    assertThat(call.buttonData()).containsExactly("fx:reroll:01JOB");

    String query = telegram.pressButton(alice, photo.getMessageId(), "fx:reroll:01JOB");
    Update press = next();
    assertThat(press.getCallbackQuery().getData()).isEqualTo("fx:reroll:01JOB");
    assertThat(press.getCallbackQuery().getMessage().getMessageId())
        .isEqualTo(photo.getMessageId());
    assertThat(client.execute(AnswerCallbackQuery.builder().callbackQueryId(query).build()))
        .isTrue();
    assertThat(telegram.callbackAnswered(query)).contains(true);
    assertThatThrownBy(
            () -> client.execute(AnswerCallbackQuery.builder().callbackQueryId(query).build()))
        .hasMessageContaining("query is too old");

    InlineKeyboardMarkup tooLong =
        new InlineKeyboardMarkup(
            List.of(
                new InlineKeyboardRow(
                    InlineKeyboardButton.builder()
                        .text("x")
                        .callbackData("x".repeat(65))
                        .build())));
    assertThatThrownBy(
            () ->
                client.execute(
                    SendMessage.builder()
                        .chatId(FakeTelegram.ALICE)
                        .text("t")
                        .replyMarkup(tooLong)
                        .build()))
        .hasMessageContaining("BUTTON_DATA_INVALID");
  }

  @Test
  void editsDocumentsAlbumsAndLimits() throws Exception {
    telegram.sendText(FakeTelegram.privateChat(FakeTelegram.ALICE), "hi");
    Message status =
        client.execute(SendMessage.builder().chatId(FakeTelegram.ALICE).text("Queued #2").build());
    client.execute(
        EditMessageText.builder()
            .chatId(FakeTelegram.ALICE)
            .messageId(status.getMessageId())
            .text("Generating 40%")
            .build());
    assertThat(
            telegram
                .message(FakeTelegram.ALICE, status.getMessageId())
                .orElseThrow()
                .path("text")
                .asText())
        .isEqualTo("Generating 40%");
    assertThatThrownBy(
            () ->
                client.execute(
                    EditMessageText.builder()
                        .chatId(FakeTelegram.ALICE)
                        .messageId(status.getMessageId())
                        .text("Generating 40%")
                        .build()))
        .hasMessageContaining("message is not modified");
    assertThatThrownBy(
            () ->
                client.execute(
                    SendMessage.builder()
                        .chatId(FakeTelegram.ALICE)
                        .text("x".repeat(4097))
                        .build()))
        .hasMessageContaining("message is too long");
    assertThatThrownBy(() -> client.execute(SendMessage.builder().chatId(42L).text("who?").build()))
        .hasMessageContaining("chat not found");

    byte[] big = png(100, 50, 0x010203);
    Message doc =
        client.execute(
            SendDocument.builder()
                .chatId(FakeTelegram.ALICE)
                .document(new InputFile(new java.io.ByteArrayInputStream(big), "original.png"))
                .caption("the original")
                .build());
    assertThat(doc.getDocument().getFileName()).isEqualTo("original.png");
    assertThat(telegram.file(doc.getDocument().getFileId())).hasValue(big);

    List<InputMediaPhoto> media = new ArrayList<>();
    media.add(new InputMediaPhoto(new java.io.ByteArrayInputStream(png(20, 20, 1)), "one.png"));
    media.add(new InputMediaPhoto(new java.io.ByteArrayInputStream(png(20, 20, 2)), "two.png"));
    List<Message> album =
        client.execute(SendMediaGroup.builder().chatId(FakeTelegram.ALICE).medias(media).build());
    assertThat(album).hasSize(2).extracting(Message::getMediaGroupId).doesNotContainNull();
    assertThat(telegram.awaitCall("sendMediaGroup", c -> true).parts()).hasSize(2);

    assertThatThrownBy(
            () ->
                client.execute(
                    SendPhoto.builder()
                        .chatId(FakeTelegram.ALICE)
                        .photo(
                            new InputFile(
                                new java.io.ByteArrayInputStream(png(2100, 100, 3)), "thin.png"))
                        .build()))
        .hasMessageContaining("PHOTO_INVALID_DIMENSIONS");
  }

  @Test
  void aScripted429CarriesRetryAfterAndTheNextCallSucceeds() throws Exception {
    telegram.sendText(FakeTelegram.privateChat(FakeTelegram.ALICE), "hi");
    telegram.rateLimitNext("sendMessage", 3);
    assertThatThrownBy(
            () ->
                client.execute(
                    SendMessage.builder().chatId(FakeTelegram.ALICE).text("one").build()))
        .isInstanceOfSatisfying(
            TelegramApiRequestException.class,
            e -> {
              assertThat(e.getErrorCode()).isEqualTo(429);
              assertThat(e.getParameters().getRetryAfter()).isEqualTo(3);
            });
    assertThat(
            client
                .execute(SendMessage.builder().chatId(FakeTelegram.ALICE).text("one").build())
                .getText())
        .isEqualTo("one");
    assertThat(telegram.calls("sendMessage")).extracting(c -> c.status()).containsExactly(429, 200);
  }

  @Test
  void getChatMemberTellsCreatorsAdministratorsAndMembersApart() throws Exception {
    telegram.sendText(FakeTelegram.inGroup(FakeTelegram.ALICE), "hello group");
    telegram.setAdministrator(FakeTelegram.GROUP, FakeTelegram.BOB, true);
    ChatMember owner =
        client.execute(new GetChatMember(Long.toString(FakeTelegram.GROUP), FakeTelegram.OWNER));
    ChatMember bob =
        client.execute(new GetChatMember(Long.toString(FakeTelegram.GROUP), FakeTelegram.BOB));
    ChatMember alice =
        client.execute(new GetChatMember(Long.toString(FakeTelegram.GROUP), FakeTelegram.ALICE));
    assertThat(owner.getStatus()).isEqualTo("creator");
    assertThat(bob.getStatus()).isEqualTo("administrator");
    assertThat(alice.getStatus()).isEqualTo("member");
    assertThat(alice.getUser().getFirstName()).isEqualTo("Alice");
  }

  @Test
  void aSecondPollerEndsTheHeldOneWithAConflict() throws Exception {
    OkHttpClient slow = http.newBuilder().readTimeout(java.time.Duration.ofSeconds(30)).build();
    String getUpdates = telegram.baseUrl() + "/bot" + telegram.token() + "/getUpdates?timeout=20";
    var first =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try (Response r =
                  slow.newCall(new Request.Builder().url(getUpdates).build()).execute()) {
                return r.code() + " " + r.body().string();
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    assertThat(Await.until("the first poll held", TEN_SECONDS, telegram::heldPolls, n -> n > 0))
        .isEqualTo(1);
    try (Response second =
        slow.newCall(
                new Request.Builder()
                    .url(telegram.baseUrl() + "/bot" + telegram.token() + "/getUpdates?timeout=0")
                    .build())
            .execute()) {
      assertThat(second.code()).isEqualTo(200);
    }
    assertThat(first.get(10, TimeUnit.SECONDS))
        .startsWith("409")
        .contains("terminated by other getUpdates request");
    assertThat(telegram.calls("getUpdates"))
        .extracting(c -> c.status())
        .containsExactlyInAnyOrder(200, 409);
  }

  @Test
  void aWebhookGetsEachUpdateWithTheSecretHeaderAgainUntilItTakesItAndBlocksGetUpdates()
      throws Exception {
    BlockingQueue<String> bodies = new LinkedBlockingQueue<>();
    BlockingQueue<String> secrets = new LinkedBlockingQueue<>();
    java.util.concurrent.atomic.AtomicInteger answers =
        new java.util.concurrent.atomic.AtomicInteger();
    var receiver =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext(
        "/hook",
        exchange -> {
          secrets.add(
              String.valueOf(
                  exchange.getRequestHeaders().getFirst("X-Telegram-Bot-Api-Secret-Token")));
          bodies.add(
              new String(
                  exchange.getRequestBody().readAllBytes(),
                  java.nio.charset.StandardCharsets.UTF_8));
          exchange.sendResponseHeaders(answers.getAndIncrement() == 0 ? 500 : 200, -1);
          exchange.close();
        });
    receiver.start();
    try {
      String hook = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
      assertThat(
              client.execute(
                  org.telegram.telegrambots.meta.api.methods.updates.SetWebhook.builder()
                      .url(hook)
                      .secretToken("s3cret_TOKEN")
                      .build()))
          .isTrue();
      assertThat(telegram.webhookUrl()).contains(hook);
      telegram.sendText(FakeTelegram.privateChat(FakeTelegram.ALICE), "/imagine by webhook");

      String first = bodies.poll(10, TimeUnit.SECONDS);
      String again = bodies.poll(10, TimeUnit.SECONDS);
      assertThat(again).as("refused with 500, so sent again").isEqualTo(first);
      assertThat(secrets.poll()).isEqualTo("s3cret_TOKEN");
      Update update =
          new com.fasterxml.jackson.databind.ObjectMapper().readValue(again, Update.class);
      assertThat(update.getMessage().getText()).isEqualTo("/imagine by webhook");
      assertThat(telegram.calls("webhook")).extracting(TelegramCall::status).startsWith(500, 200);

      Await.until(
          "the push loop confirmed the update", TEN_SECONDS, () -> telegram.pendingUpdates() == 0);
      assertThatThrownBy(
              () ->
                  client.execute(
                      new org.telegram.telegrambots.meta.api.methods.updates.GetUpdates()))
          .hasMessageContaining("can't use getUpdates method while webhook is active");
      client.execute(new org.telegram.telegrambots.meta.api.methods.updates.DeleteWebhook());
      assertThat(telegram.webhookUrl()).isEmpty();
    } finally {
      receiver.stop(0);
    }
  }
}
