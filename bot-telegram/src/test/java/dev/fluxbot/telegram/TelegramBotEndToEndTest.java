package dev.fluxbot.telegram;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeTelegram;
import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeTelegramExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import dev.fluxbot.testkit.telegram.Pace;
import dev.fluxbot.testkit.telegram.TelegramCall;
import dev.fluxbot.testkit.telegram.TelegramContext;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * The Telegram adapter on the real core (SQLite, the BFL backend) against the fake Bot API and the
 * fake BFL API, through the real telegrambots client: every step goes over loopback sockets.
 */
class TelegramBotEndToEndTest {
  private static final String BFL_KEY = "sk-telegram-e2e";

  /** The pace README promises: Telegram's, with a group's messages at least 3 s apart. */
  static final Pace README_PACE = Pace.TELEGRAM.withGroupGap(Duration.ofSeconds(3));

  private final Harness.RecordingSleeper sleeper = new Harness.RecordingSleeper();

  @RegisterExtension
  final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(BFL_KEY));

  /**
   * As Telegram sets up a new bot: privacy mode on, so a group shows it only what is meant for it.
   * Every message and edit a chat receives must keep the pace.
   */
  @RegisterExtension
  final FakeTelegramExtension telegramFake =
      new FakeTelegramExtension(
          b ->
              b.awaitTimeout(Duration.ofSeconds(20))
                  .clock(sleeper)
                  .pace(README_PACE)
                  .privacyMode(true));

  private final FakeBflApi bfl = bflFake.get();
  private final FakeTelegram telegram = telegramFake.get();

  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final TelegramContext alice = FakeTelegram.privateChat(FakeTelegram.ALICE);

  @Order(Integer.MAX_VALUE) // registered last, so it stops before the fakes close
  @RegisterExtension
  final FluxbotCoreExtension cores = new FluxbotCoreExtension();

  private Harness app;

  @BeforeEach
  void start() {
    logs.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
  }

  @AfterEach
  void stop() throws Exception {
    if (app != null) {
      app.close();
    }
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    assertNoTokenLeaked();
  }

  private Harness startApp() {
    app = new Harness(cores, telegram, bfl, sleeper);
    return app;
  }

  /**
   * The bot token is in every Bot API URL: it must never reach BFL, a log line or a chat message.
   */
  private void assertNoTokenLeaked() {
    String token = telegram.token();
    String secretPart = token.substring(token.indexOf(':') + 1);
    for (ILoggingEvent e : logs.list) {
      assertThat(e.getFormattedMessage()).doesNotContain(secretPart);
      if (e.getThrowableProxy() != null) {
        assertThat(
                e.getThrowableProxy().getMessage() == null
                    ? ""
                    : e.getThrowableProxy().getMessage())
            .doesNotContain(secretPart);
      }
    }
    for (var r : bfl.requests()) {
      assertThat(r.bodyText()).doesNotContain(secretPart);
      assertThat(r.target()).doesNotContain(secretPart);
    }
    for (TelegramCall c : telegram.calls()) {
      assertThat(c.params().toString()).doesNotContain(secretPart);
    }
  }

  private TelegramCall photoIn(long chatId, int nth) {
    return telegram.awaitCall(
        "sendPhoto",
        c ->
            c.param("chat_id").orElse("").equals(Long.toString(chatId))
                && telegram.calls("sendPhoto").stream()
                        .filter(TelegramCall::ok)
                        .filter(p -> p.param("chat_id").orElse("").equals(Long.toString(chatId)))
                        .count()
                    >= nth
                && telegram.calls("sendPhoto").stream()
                        .filter(TelegramCall::ok)
                        .filter(p -> p.param("chat_id").orElse("").equals(Long.toString(chatId)))
                        .toList()
                        .indexOf(c)
                    == nth - 1);
  }

  static String sha256(byte[] bytes) throws java.security.NoSuchAlgorithmException {
    return java.util.HexFormat.of()
        .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static long messageId(TelegramCall c) {
    return c.result().path("message_id").asLong();
  }

  private static long replyTo(TelegramCall c) {
    return c.json("reply_parameters").path("message_id").asLong();
  }

  private String bflRef(int index) {
    var submit = bfl.submits().get(bfl.submits().size() - 1).body();
    return submit.path(index == 1 ? "input_image" : "input_image_" + index).asText(null);
  }

  @Test
  void aPrivateImagineShowsItsStatusThenAnswersWithAPhotoCaptionAndFiveButtons() throws Exception {
    startApp();
    JsonNode command = telegram.sendText(alice, "/imagine a red fox in snow --seed 7");

    TelegramCall status =
        telegram.awaitCall("sendMessage", c -> c.param("text").orElse("").startsWith("⏳ Working"));
    assertThat(replyTo(status)).isEqualTo(command.path("message_id").asLong());
    TelegramCall photo = photoIn(FakeTelegram.ALICE, 1);
    assertThat(replyTo(photo)).isEqualTo(command.path("message_id").asLong());
    String caption = photo.param("caption").orElseThrow();
    assertThat(caption)
        .startsWith("a red fox in snow\n")
        .contains("klein-4b · 1024×1024 · seed 7 · ")
        .contains("credits");
    assertThat(photo.file("photo"))
        .hasValueSatisfying(p -> assertThat(p.filename()).isEqualTo("fluxbot-7.jpg"));
    String jobId = photo.buttonData().get(0).substring("fx:reroll:".length());
    assertThat(photo.buttonData())
        .containsExactly(
            "fx:reroll:" + jobId,
            "fx:vary:" + jobId,
            "fx:2k:" + jobId,
            "fx:file:" + jobId,
            "fx:ref:" + jobId);
    assertThat(
            photo.json("reply_markup").path("inline_keyboard").get(1).get(0).path("text").asText())
        .isEqualTo("Original as file");

    assertThat(bfl.submits())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.body().path("prompt").asText()).isEqualTo("a red fox in snow");
              assertThat(s.body().path("seed").asLong()).isEqualTo(7);
            });
    telegram.awaitCall(
        "deleteMessage",
        c -> c.param("message_id").orElse("").equals(Long.toString(messageId(status))));
    assertThat(telegram.message(FakeTelegram.ALICE, messageId(status)))
        .as("the status message is gone")
        .isEmpty();
    assertThat(telegram.calls("editMessageText"))
        .as("the status moved before the image came")
        .anySatisfy(
            c ->
                assertThat(c.param("text").orElse(""))
                    .startsWith("🎨 Working on it: klein-4b, 1024×1024, seed 7"));
  }

  @Test
  void anAlbumOfThreePhotosWithTheCaptionOnItsSecondItemSendsAllThreeInOrder() throws Exception {
    startApp();
    byte[] a = TestImages.noisePng(64, 48, 1);
    byte[] b = TestImages.noisePng(48, 64, 2);
    byte[] c = TestImages.noisePng(56, 56, 3);
    TelegramContext bob = FakeTelegram.inGroup(FakeTelegram.BOB);
    telegram.setAdministrator(
        FakeTelegram.GROUP, telegram.botId(), true); // albums in groups need it (privacy mode)
    List<JsonNode> album =
        telegram.sendPhotos(
            bob,
            "/imagine@" + telegram.botUsername() + " blend these --ar 1:1",
            1,
            List.of(a, b, c));

    TelegramCall photo = photoIn(FakeTelegram.GROUP, 1);
    assertThat(replyTo(photo)).isEqualTo(album.get(1).path("message_id").asLong());
    assertThat(bfl.submits()).hasSize(1);
    assertThat(sha256(Base64.getDecoder().decode(bflRef(1))))
        .as("reference 1")
        .isEqualTo(sha256(a));
    assertThat(sha256(Base64.getDecoder().decode(bflRef(2))))
        .as("reference 2")
        .isEqualTo(sha256(b));
    assertThat(sha256(Base64.getDecoder().decode(bflRef(3))))
        .as("reference 3")
        .isEqualTo(sha256(c));
    assertThat(bflRef(4)).isNull();
    assertThat(telegram.calls("file")).as("each photo's largest size fetched once").hasSize(3);

    telegram.replyText(
        bob, album.get(0).path("message_id").asLong(), "/imagine the same three, at night");
    photoIn(FakeTelegram.GROUP, 2);
    assertThat(bfl.submits()).hasSize(2);
    assertThat(sha256(Base64.getDecoder().decode(bflRef(3))))
        .as("a reply to one item uses the whole album")
        .isEqualTo(sha256(c));
  }

  @Test
  void aReplyToAPhotoUsesItAsTheReference() throws Exception {
    startApp();
    byte[] cat = TestImages.noisePng(80, 40, 9);
    JsonNode photoMessage = telegram.sendPhotos(alice, null, cat).get(0);
    telegram.replyText(
        alice, photoMessage.path("message_id").asLong(), "/imagine the same cat, but blue");

    TelegramCall photo = photoIn(FakeTelegram.ALICE, 1);
    assertThat(photo.param("caption").orElseThrow()).startsWith("the same cat, but blue");
    assertThat(sha256(Base64.getDecoder().decode(bflRef(1))))
        .as("reference 1")
        .isEqualTo(sha256(cat));
    assertThat(bflRef(2)).isNull();
    assertThat(bfl.submits().get(0).body().path("width").asInt())
        .as("the output takes the reference's 2:1 shape")
        .isGreaterThan(bfl.submits().get(0).body().path("height").asInt());
  }

  @Test
  void buttonsStillWorkAfterARestartRerollAndVaryByReply() throws Exception {
    startApp();
    telegram.sendText(alice, "/imagine a lighthouse at dusk --seed 11");
    TelegramCall first = photoIn(FakeTelegram.ALICE, 1);
    String reroll = first.buttonData().get(0);
    String vary = first.buttonData().get(1);
    long imageMessage = messageId(first);

    app.close();
    app = null;
    sleeper.sleep(
        Duration.ofSeconds(5)); // a restart takes a few seconds: the new bot's pace starts afresh
    startApp(); // a new bot on the same database: nothing in memory survives

    String jobId = reroll.substring("fx:reroll:".length());
    var job = app.jobs.find(jobId).orElseThrow();
    assertThat(job.replyAddress())
        .as("a delivered job keeps no reply address; its buttons need none")
        .isNull();
    assertThat(app.bot.replyFor(job)).isEmpty();

    String query = telegram.pressButton(alice, imageMessage, reroll);
    TelegramCall second = photoIn(FakeTelegram.ALICE, 2);
    assertThat(telegram.callbackAnswered(query)).contains(true);
    assertThat(replyTo(second)).isEqualTo(imageMessage);
    assertThat(bfl.submits()).hasSize(2);
    assertThat(bfl.submits().get(1).body().path("prompt").asText())
        .isEqualTo("a lighthouse at dusk");
    assertThat(bfl.submits().get(1).body().path("seed").asLong()).isNotEqualTo(11);

    telegram.pressButton(alice, imageMessage, vary);
    TelegramCall ask =
        telegram.awaitCall(
            "sendMessage", c -> c.param("text").orElse("").contains("✏️ Vary: reply to "));
    assertThat(ask.json("reply_markup").path("force_reply").asBoolean()).isTrue();
    assertThat(ask.param("text").orElseThrow())
        .contains("The prompt was: a lighthouse at dusk")
        .as("no internal job id shown")
        .doesNotContain(jobId);
    telegram.replyText(alice, messageId(ask), "a lighthouse at dawn");
    TelegramCall third = photoIn(FakeTelegram.ALICE, 3);
    assertThat(third.param("caption").orElseThrow())
        .startsWith("a lighthouse at dawn\n")
        .contains("seed 11 ");
  }

  @Test
  void originalAsFileSendsTheStoredImageAsADocument() throws Exception {
    startApp();
    telegram.sendText(alice, "/imagine a teapot --seed 5 --format png");
    TelegramCall photo = photoIn(FakeTelegram.ALICE, 1);
    byte[] sent = photo.file("photo").orElseThrow().bytes();
    telegram.pressButton(alice, messageId(photo), photo.buttonData().get(3));
    TelegramCall doc = telegram.awaitCall("sendDocument", c -> true);
    assertThat(sha256(doc.file("document").orElseThrow().bytes())).isEqualTo(sha256(sent));
    assertThat(doc.file("document").orElseThrow().filename()).isEqualTo("fluxbot-5.png");
    assertThat(replyTo(doc)).isEqualTo(messageId(photo));
  }

  @Test
  void aMemberIsRefusedAdminCommandsWhileTheGroupsCreatorSetsTheQuota() throws Exception {
    startApp();
    TelegramContext aliceInGroup = FakeTelegram.inGroup(FakeTelegram.ALICE);
    JsonNode attempt = telegram.sendText(aliceInGroup, "/admin quota set 1000");
    TelegramCall refusal =
        telegram.awaitCall("sendMessage", c -> replyTo(c) == attempt.path("message_id").asLong());
    assertThat(refusal.param("text").orElseThrow())
        .startsWith("⛔ /admin is for this group's administrators")
        .contains("Your user id is " + FakeTelegram.ALICE);
    assertThat(telegram.calls("getChatMember"))
        .singleElement()
        .satisfies(c -> assertThat(c.param("user_id")).contains(Long.toString(FakeTelegram.ALICE)));

    JsonNode set =
        telegram.replyText(
            FakeTelegram.inGroup(FakeTelegram.OWNER),
            attempt.path("message_id").asLong(),
            "/admin quota set 0 day");
    TelegramCall done =
        telegram.awaitCall("sendMessage", c -> replyTo(c) == set.path("message_id").asLong());
    assertThat(done.param("text").orElseThrow())
        .isEqualTo("Set user " + FakeTelegram.ALICE + " in this group to 0 credits per day.");
    assertThat(
            app.quota
                .show(
                    "telegram",
                    Long.toString(FakeTelegram.GROUP),
                    Long.toString(FakeTelegram.ALICE),
                    java.util.Set.of())
                .limitMilli())
        .isZero();
  }

  @Test
  void overQuotaIsRefusedWithTheResetTimeAndNothingReachesBfl() throws Exception {
    app =
        new Harness(
            cores,
            telegram,
            bfl,
            sleeper,
            new QuotaService.Settings(
                java.time.ZoneOffset.UTC, QuotaService.Period.DAY, 0, 2, null));
    JsonNode command = telegram.sendText(alice, "/imagine a castle");
    TelegramCall status =
        telegram.awaitCall("sendMessage", c -> replyTo(c) == command.path("message_id").asLong());
    TelegramCall refusal =
        telegram.awaitCall(
            "editMessageText",
            c ->
                c.param("message_id").orElse("").equals(Long.toString(messageId(status)))
                    && c.param("text").orElse("").startsWith("⚠️"));
    assertThat(refusal.param("text").orElseThrow())
        .startsWith("⚠️ You have 0 of 0 credits left today")
        .contains("Resets at 00:00 UTC (in ");
    assertThat(bfl.submits()).isEmpty();

    telegram.sendText(alice, "/quota");
    TelegramCall quota =
        telegram.awaitCall(
            "sendMessage", c -> c.param("text").orElse("").startsWith("You have 0 of 0"));
    assertThat(quota.param("text").orElseThrow()).contains("Resets ").contains(" UTC (in ");
  }

  @Test
  void a429OnTheImageIsWaitedOutForItsRetryAfterAndTheImageStillArrives() throws Exception {
    startApp();
    telegram.rateLimitNext("sendPhoto", 3);
    telegram.sendText(alice, "/imagine a windmill --seed 3");
    TelegramCall photo = photoIn(FakeTelegram.ALICE, 1);
    assertThat(photo.param("caption").orElseThrow()).startsWith("a windmill");
    assertThat(telegram.calls("sendPhoto"))
        .extracting(TelegramCall::status)
        .containsExactly(429, 200);
    assertThat(sleeper.waits).contains(Duration.ofSeconds(3));
    assertThat(bfl.submits()).as("the image was not made again").hasSize(1);
  }

  @Test
  void anOriginalOverTenMegabytesComesAsACompressedPhotoAndTheOriginalAsAFile() throws Exception {
    byte[] huge = TestImages.noisePng(2048, 2048, 77); // random pixels: about 12.6 MB as PNG
    assertThat(huge.length).isGreaterThan(10_000_000);
    bfl.enqueue(dev.fluxbot.testkit.Scenario.ready().withImage(huge, "png"));
    startApp();
    telegram.sendText(alice, "/imagine static noise --size 2048x2048 --format png --seed 1");

    TelegramCall photo = photoIn(FakeTelegram.ALICE, 1);
    var preview = photo.file("photo").orElseThrow();
    assertThat(preview.bytes().length).isLessThanOrEqualTo(10_000_000);
    assertThat(preview.filename()).isEqualTo("fluxbot-1-preview.jpg");
    assertThat(photo.param("caption").orElseThrow())
        .contains("A compressed preview; the original (12.6 MB) follows as a file.");
    assertThat(photo.buttonData()).hasSize(5);
    TelegramCall doc = telegram.awaitCall("sendDocument", c -> true);
    assertThat(sha256(doc.file("document").orElseThrow().bytes())).isEqualTo(sha256(huge));
    assertThat(doc.file("document").orElseThrow().filename()).isEqualTo("fluxbot-1.png");
    assertThat(replyTo(doc)).as("the file answers the preview").isEqualTo(messageId(photo));
  }

  @Test
  void anImageSentAsAFileWithTheCommandInItsCaptionIsTheReference() throws Exception {
    startApp();
    byte[] logo = TestImages.noisePng(120, 60, 5);
    telegram.sendDocument(
        alice, "/imagine a logo like this, in gold", logo, "logo.png", "image/png");
    TelegramCall photo = photoIn(FakeTelegram.ALICE, 1);
    assertThat(photo.param("caption").orElseThrow()).startsWith("a logo like this, in gold\n");
    assertThat(sha256(Base64.getDecoder().decode(bflRef(1)))).isEqualTo(sha256(logo));
  }

  @Test
  void personalSettingsAndTheGroupsDefaultModelShapeTheNextImage() throws Exception {
    startApp();
    TelegramContext aliceInGroup = FakeTelegram.inGroup(FakeTelegram.ALICE);
    JsonNode settings = telegram.sendText(aliceInGroup, "/settings --format png --ar 16:9");
    assertThat(
            telegram
                .awaitCall("sendMessage", c -> replyTo(c) == settings.path("message_id").asLong())
                .param("text")
                .orElseThrow())
        .startsWith("Your defaults: model (the default here), aspect widescreen_16_9, format png.");
    JsonNode model =
        telegram.sendText(FakeTelegram.inGroup(FakeTelegram.OWNER), "/admin model pro");
    assertThat(
            telegram
                .awaitCall("sendMessage", c -> replyTo(c) == model.path("message_id").asLong())
                .param("text")
                .orElseThrow())
        .isEqualTo("The default model in this group is now pro.");

    telegram.sendText(aliceInGroup, "/imagine@" + telegram.botUsername() + " a heron");
    TelegramCall photo = photoIn(FakeTelegram.GROUP, 1);
    assertThat(photo.param("caption").orElseThrow()).startsWith("a heron\npro · 1344×768 · ");
    assertThat(bfl.submits())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.endpoint()).isEqualTo("flux-2-pro");
              assertThat(s.body().path("output_format").asText()).isEqualTo("png");
            });

    JsonNode other = telegram.sendText(aliceInGroup, "/imagine@SomeOtherBot a heron");
    JsonNode bad = telegram.sendText(aliceInGroup, "/settings --model nope");
    assertThat(
            telegram
                .awaitCall("sendMessage", c -> replyTo(c) == bad.path("message_id").asLong())
                .param("text")
                .orElseThrow())
        .startsWith("⚠️ --model: must be one of ")
        .contains("; got \"nope\". Example: /settings --model pro");
    assertThat(telegram.calls("sendMessage"))
        .as("a command for another bot is not ours")
        .noneMatch(c -> replyTo(c) == other.path("message_id").asLong());
  }

  @Test
  void inWebhookModeUpdatesComeByPostAndARequestWithoutTheSecretIsRefused() throws Exception {
    app =
        new Harness(
            cores,
            telegram,
            bfl,
            sleeper,
            QuotaService.Settings.defaults(),
            c ->
                c.withWebhook(
                    new TelegramBot.Webhook(
                        null,
                        new java.net.InetSocketAddress("127.0.0.1", 0),
                        "/telegram",
                        dev.fluxbot.core.Secret.of("hook_secret-123"))));
    var address = app.bot.webhookAddress().orElseThrow();
    String hook = "http://127.0.0.1:" + address.getPort() + "/telegram";
    assertThat(telegram.webhookUrl()).contains(hook);
    assertThat(telegram.calls("getUpdates")).as("no long polling").isEmpty();

    telegram.sendText(alice, "/imagine a kite by webhook --seed 2");
    TelegramCall photo = photoIn(FakeTelegram.ALICE, 1);
    assertThat(photo.param("caption").orElseThrow()).startsWith("a kite by webhook\n");
    assertThat(telegram.calls("webhook"))
        .first()
        .satisfies(c -> assertThat(c.status()).isEqualTo(200));

    var http = java.net.http.HttpClient.newHttpClient();
    String forged =
        "{\"update_id\":999,\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1001,\"type\":\"private\"},"
            + "\"from\":{\"id\":1001,\"is_bot\":false,\"first_name\":\"Mallory\"},\"text\":\"/imagine forged\"}}";
    for (String secret : new String[] {null, "wrong"}) {
      var request =
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(hook))
              .POST(java.net.http.HttpRequest.BodyPublishers.ofString(forged));
      if (secret != null) {
        request.header("X-Telegram-Bot-Api-Secret-Token", secret);
      }
      assertThat(
              http.send(request.build(), java.net.http.HttpResponse.BodyHandlers.discarding())
                  .statusCode())
          .as("secret " + secret)
          .isEqualTo(401);
    }
    assertThat(bfl.submits())
        .as("a refused request is dropped before it is read")
        .singleElement()
        .satisfies(
            s -> assertThat(s.body().path("prompt").asText()).isEqualTo("a kite by webhook"));
  }

  @Test
  void anAnonymousGroupAdministratorMayAdministerButNotSpendCredits() throws Exception {
    startApp();
    telegram.setAdministrator(FakeTelegram.GROUP, FakeTelegram.BOB, true);
    TelegramContext bob = FakeTelegram.inGroup(FakeTelegram.BOB);

    String set =
        answer(telegram.sendTextAnonymously(bob, "/admin quota set 7 day " + FakeTelegram.ALICE));
    String imagine = answer(telegram.sendTextAnonymously(bob, "/imagine a crown"));
    String quota = answer(telegram.sendTextAnonymously(bob, "/quota"));

    assertThat(set)
        .isEqualTo("Set user " + FakeTelegram.ALICE + " in this group to 7 credits per day.");
    assertThat(telegram.calls("getChatMember"))
        .as("Telegram lets only the group's administrators post as it")
        .isEmpty();
    assertThat(imagine)
        .startsWith(
            "🕶 You are posting anonymously, as the group, so I cannot tell whose credits to use.")
        .contains("Remain anonymous");
    assertThat(quota).isEqualTo(imagine);
    assertThat(bfl.submits()).isEmpty();
    assertThat(
            app.quota
                .show(
                    "telegram",
                    Long.toString(FakeTelegram.GROUP),
                    Long.toString(FakeTelegram.ALICE),
                    java.util.Set.of())
                .limitMilli())
        .isEqualTo(7_000);
  }

  @Test
  void adminsGrantBanAndUnbanByReplyOrIdAndAConfiguredAdminRulesEveryChatFromPrivate()
      throws Exception {
    startApp();
    TelegramContext owner = FakeTelegram.inGroup(FakeTelegram.OWNER);
    TelegramContext aliceInGroup = FakeTelegram.inGroup(FakeTelegram.ALICE);
    JsonNode hello = telegram.sendText(aliceInGroup, "hello");
    String grant =
        answer(
            telegram.replyText(owner, hello.path("message_id").asLong(), "/admin quota grant 5"));
    assertThat(grant)
        .startsWith(
            "Granted 5 credits to user "
                + FakeTelegram.ALICE
                + ". User "
                + FakeTelegram.ALICE
                + " has 55 of 55 credits left");
    assertThat(
            answer(
                telegram.sendText(
                    owner, "/admin quota ban " + FakeTelegram.ALICE + " too many dragons")))
        .isEqualTo(
            "Banned user "
                + FakeTelegram.ALICE
                + " from making images in this group (too many dragons).");

    JsonNode refused = telegram.sendText(aliceInGroup, "/imagine a dragon");
    assertThat(answer(refused))
        .as("refused at once, no status first")
        .startsWith("⚠️")
        .contains("too many dragons");
    assertThat(telegram.calls("sendMessage"))
        .filteredOn(c -> replyTo(c) == refused.path("message_id").asLong())
        .hasSize(1);
    assertThat(bfl.submits()).isEmpty();

    assertThat(answer(telegram.sendText(owner, "/admin quota unban " + FakeTelegram.ALICE)))
        .isEqualTo("Unbanned user " + FakeTelegram.ALICE + " in this group.");
    assertThat(answer(telegram.sendText(owner, "/admin quota grant lots " + FakeTelegram.ALICE)))
        .isEqualTo(
            "⚠️ credits: must be a number from 0 to 1000000000 with at most 3 decimals"
                + " (1 credit = $0.01); got \"lots\". Example: /admin quota grant 10 123456789");
    assertThat(answer(telegram.sendText(owner, "/admin quota show")))
        .startsWith("⚠️ which user? Give the user's numeric Telegram id, or reply to one");

    long admin = Harness.ADMINS.iterator().next();
    assertThat(
            answer(
                telegram.sendText(
                    FakeTelegram.privateChat(admin),
                    "/admin quota set 10 week " + FakeTelegram.BOB)))
        .isEqualTo("Set user " + FakeTelegram.BOB + " in every chat to 10 credits per week.");
    assertThat(
            answer(
                telegram.sendText(
                    FakeTelegram.privateChat(FakeTelegram.BOB), "/admin quota set 99")))
        .startsWith("⛔ /admin is for the bot's own admins, and you are not one.")
        .doesNotContain("telegram.")
        .doesNotContain("neither")
        .contains("user id, " + FakeTelegram.BOB);
    JsonNode quota = telegram.sendText(FakeTelegram.privateChat(FakeTelegram.BOB), "/quota");
    assertThat(answer(quota)).startsWith("You have 10 of 10 credits left this week");
  }

  @Test
  void aFileThatIsNotAnImageIsRefusedWithWhatItIs() throws Exception {
    startApp();
    JsonNode doc =
        telegram.sendDocument(
            alice,
            "/imagine from this",
            "hello".getBytes(java.nio.charset.StandardCharsets.UTF_8),
            "notes.txt",
            "text/plain");
    assertThat(answer(doc))
        .isEqualTo(
            "⚠️ reference: the file \"notes.txt\" is text/plain, not an image. Send a PNG,"
                + " JPEG or WebP, as a photo or as a file.");
    assertThat(bfl.submits()).isEmpty();
  }

  @Test
  void inAGroupEveryMessageAndEditKeepsThePaceFromTheCommandThroughVaryToAnError()
      throws Exception {
    startApp();
    TelegramContext bob = FakeTelegram.inGroup(FakeTelegram.BOB);
    telegram.sendText(bob, "/imagine@" + telegram.botUsername() + " a harbour --seed 4");
    TelegramCall first = photoIn(FakeTelegram.GROUP, 1);
    telegram.pressButton(
        bob, messageId(first), first.buttonData().get(1)); // Vary: photo → question → status
    TelegramCall ask =
        telegram.awaitCall(
            "sendMessage", c -> c.json("reply_markup").path("force_reply").asBoolean());
    telegram.replyText(bob, messageId(ask), "a harbour at night");
    photoIn(FakeTelegram.GROUP, 2);

    bfl.enqueue(
        dev.fluxbot.testkit.Scenario.moderated("Content Moderated", "Derivative Works Filter"));
    JsonNode last =
        telegram.sendText(bob, "/imagine@" + telegram.botUsername() + " a famous mouse");
    TelegramCall status =
        telegram.awaitCall("sendMessage", c -> replyTo(c) == last.path("message_id").asLong());
    telegram.awaitCall(
        "editMessageText",
        c ->
            c.param("message_id").orElse("").equals(Long.toString(messageId(status)))
                && c.param("text").orElse("").startsWith("🚫"));

    assertThat(telegram.paceViolations())
        .as("the group got one message or edit every 3 s at most")
        .isEmpty();
    assertThat(telegram.calls()).filteredOn(c -> c.status() == 429).isEmpty();
  }

  @Test
  void aFlagErrorIsRefusedAtOnceWithoutAWorkingOnItFirst() throws Exception {
    startApp();
    JsonNode command = telegram.sendText(alice, "/imagine a fox --seed -1");
    assertThat(answer(command)).startsWith("⚠️").contains("--seed");
    JsonNode empty = telegram.sendText(alice, "/imagine");
    assertThat(answer(empty)).startsWith("⚠️");
    assertThat(telegram.calls("sendMessage"))
        .as("one answer each, no status before it")
        .filteredOn(
            c ->
                replyTo(c) == command.path("message_id").asLong()
                    || replyTo(c) == empty.path("message_id").asLong())
        .hasSize(2);
    assertThat(telegram.calls("editMessageText")).isEmpty();
    assertThat(bfl.submits()).isEmpty();
  }

  @Test
  void aNormalShutdownLogsNothingAtError() throws Exception {
    for (int i = 0; i < 4; i++) {
      startApp();
      answer(telegram.sendText(alice, "/quota"));
      awaitHeldPoll();
      app.close();
      app = null;
      sleeper.sleep(
          Duration.ofSeconds(5)); // a restart takes a few seconds: the new bot's pace starts afresh
    }
    assertThat(logs.list)
        .filteredOn(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.ERROR))
        .extracting(e -> e.getLoggerName() + ": " + e.getFormattedMessage())
        .as("stopping while a poll is held is normal: nothing at ERROR")
        .isEmpty();
  }

  private void awaitHeldPoll() {
    Await.until("a getUpdates held", Duration.ofSeconds(20), () -> telegram.heldPolls() > 0);
  }

  @Test
  void withPrivacyModeAGroupAlbumThatReachesTheBotAsOneImageIsRefusedWithWhatToDo()
      throws Exception {
    startApp();
    TelegramContext bob = FakeTelegram.inGroup(FakeTelegram.BOB);
    String imagine = "/imagine@" + telegram.botUsername();
    List<JsonNode> album =
        telegram.sendPhotos(
            bob,
            imagine + " blend these",
            0,
            List.of(
                TestImages.noisePng(64, 48, 1),
                TestImages.noisePng(48, 64, 2),
                TestImages.noisePng(56, 56, 3)));
    assertThat(answer(album.get(0)))
        .startsWith("⚠️ Only one image of this album reached me, so I did not start it.")
        .contains("/setprivacy in @BotFather")
        .contains("administrator");
    assertThat(bfl.submits()).as("not run with one of three images").isEmpty();

    byte[] one = TestImages.noisePng(80, 40, 4);
    JsonNode single = telegram.sendPhotos(bob, imagine + " this one, in blue", one).get(0);
    TelegramCall photo = photoIn(FakeTelegram.GROUP, 1);
    assertThat(replyTo(photo))
        .as("a single photo is not an album")
        .isEqualTo(single.path("message_id").asLong());
    assertThat(sha256(Base64.getDecoder().decode(bflRef(1)))).isEqualTo(sha256(one));

    List<JsonNode> unseen =
        telegram.sendPhotos(
            bob, null, 0, List.of(TestImages.noisePng(64, 48, 8), TestImages.noisePng(48, 64, 9)));
    JsonNode replyToItem =
        telegram.replyText(
            bob, unseen.get(0).path("message_id").asLong(), imagine + " the same, at dusk");
    assertThat(answer(replyToItem))
        .as("a reply to an album item means the whole album, which never reached the bot")
        .startsWith("⚠️ That image is one of an album, and I do not have the album's other images");
    assertThat(bfl.submits()).hasSize(1);

    telegram.setAdministrator(
        FakeTelegram.GROUP, telegram.botId(), true); // an administrator sees every message
    telegram.sendPhotos(
        bob,
        imagine + " blend these",
        2,
        List.of(
            TestImages.noisePng(64, 48, 5),
            TestImages.noisePng(48, 64, 6),
            TestImages.noisePng(56, 56, 7)));
    photoIn(FakeTelegram.GROUP, 2);
    assertThat(bflRef(3)).isNotNull();
  }

  @Test
  void quotaAndAnAdminsQuotaShowSayTheSameIncludingCreditsHeldByImagesInProgress()
      throws Exception {
    startApp();
    var aliceHere = Harness.requester(FakeTelegram.ALICE);
    app.quota.reserve(aliceHere, "01JHELDJOB0000000000000000", "klein-4b", 1_500, false);
    String quota = answer(telegram.sendText(alice, "/quota"));
    long admin = Harness.ADMINS.iterator().next();
    String show =
        answer(
            telegram.sendText(
                FakeTelegram.privateChat(admin), "/admin quota show " + FakeTelegram.ALICE));
    String summary = app.quota.status(aliceHere).summary();
    assertThat(summary).contains("1.5 held by images in progress");
    assertThat(quota).startsWith("You have " + summary + ". Resets ");
    assertThat(show).startsWith("User " + FakeTelegram.ALICE + " has " + summary + ";");
    assertThat(
            answer(
                telegram.sendText(
                    FakeTelegram.privateChat(admin), "/admin quota set 1 day " + FakeTelegram.BOB)))
        .isEqualTo("Set user " + FakeTelegram.BOB + " in every chat to 1 credit per day.");
  }

  @Test
  void aButtonOfAnImageNoLongerStoredSaysSoAtOnceWithoutAnInternalId() throws Exception {
    startApp();
    JsonNode quota = telegram.sendText(alice, "/quota");
    long answered =
        telegram
            .awaitCall("sendMessage", c -> replyTo(c) == quota.path("message_id").asLong())
            .result()
            .path("message_id")
            .asLong();
    String gone = "01JGONEGONEGONEGONEGONEGONE";
    telegram.pressButton(alice, answered, "fx:reroll:" + gone);
    TelegramCall refusal = telegram.awaitCall("sendMessage", c -> replyTo(c) == answered);
    assertThat(refusal.param("text").orElseThrow())
        .startsWith("⚠️ Reroll: this image is no longer stored here")
        .doesNotContain(gone);
    telegram.pressButton(alice, answered, "fx:file:" + gone);
    TelegramCall noFile =
        telegram.awaitCall(
            "sendMessage",
            c ->
                replyTo(c) == answered
                    && c != refusal
                    && c.param("text").orElse("").contains("Original as file"));
    assertThat(noFile.param("text").orElseThrow()).doesNotContain(gone);
    assertThat(telegram.calls("sendMessage"))
        .as("no status first")
        .noneMatch(c -> c.param("text").orElse("").contains("working on it"));
    assertThat(telegram.calls("editMessageText")).isEmpty();
  }

  /** The bot's text answer to a message. */
  private String answer(JsonNode message) {
    return telegram
        .awaitCall("sendMessage", c -> replyTo(c) == message.path("message_id").asLong())
        .param("text")
        .orElseThrow();
  }
}
