package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeTelegram;
import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeTelegramExtension;
import dev.fluxbot.testkit.telegram.Pace;
import dev.fluxbot.testkit.telegram.TelegramCall;
import dev.fluxbot.testkit.telegram.TelegramContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real app ({@code fluxbot run}, a child process) against the fake Bot API and the fake BFL
 * API.
 */
class TelegramRunProcessTest {
  private static final String BFL_KEY = "sk-telegram-process";

  @RegisterExtension
  final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(BFL_KEY));

  /**
   * Telegram's pace (a group's messages 3 s apart, as README promises) on the real clock, and
   * privacy mode on; every chat's messages and edits must keep the pace.
   */
  @RegisterExtension
  final FakeTelegramExtension telegramFake =
      new FakeTelegramExtension(
          b ->
              b.awaitTimeout(Duration.ofSeconds(30))
                  .pace(Pace.TELEGRAM.withGroupGap(Duration.ofSeconds(3)))
                  .privacyMode(true));

  private final FakeBflApi bfl = bflFake.get();
  private final FakeTelegram telegram = telegramFake.get();

  private final TelegramContext alice = FakeTelegram.privateChat(FakeTelegram.ALICE);
  private RunningApp app;

  @TempDir Path dir;

  @AfterEach
  void stop() throws Exception {
    stopApp();
    String secretPart = telegram.token().substring(telegram.token().indexOf(':') + 1);
    assertThat(log()).as("the bot token never reaches the log").doesNotContain(secretPart);
    assertThat(log().lines().filter(l -> l.matches("\\S+ ERROR .*")))
        .as("stopping is normal: nothing at ERROR")
        .isEmpty();
    bfl.requests().forEach(r -> assertThat(r.bodyText() + r.target()).doesNotContain(secretPart));
  }

  private ProcessBuilder fluxbot(String token, String... args) {
    return FluxbotProcess.builder(
        dir,
        Map.of(
            "BFL_API_KEY",
            BFL_KEY,
            "FLUXBOT_BFL_BASE_URL",
            bfl.baseUrl(),
            "FLUXBOT_TELEGRAM_TOKEN",
            token,
            "FLUXBOT_TELEGRAM_API_URL",
            telegram.baseUrl()),
        args);
  }

  /**
   * Starts the app and waits until its long poll is held by the fake: it then takes updates at
   * once.
   */
  private void startApp() throws Exception {
    int before = telegram.calls("getMe").size();
    app =
        RunningApp.start(
            fluxbot(telegram.token(), "run", "--grace", "5"),
            dir,
            () -> telegram.calls("getMe").size() > before && telegram.heldPolls() > 0);
  }

  private void stopApp() throws Exception {
    if (app != null) {
      app.stop();
    }
  }

  private String log() {
    return RunningApp.read(dir.resolve("app.log"));
  }

  private static String sha256(byte[] bytes) throws NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static long replyTo(TelegramCall c) {
    return c.json("reply_parameters").path("message_id").asLong();
  }

  /** The photo the bot sent in answer to {@code message}. */
  private TelegramCall photoFor(JsonNode message) {
    long id = message.path("message_id").asLong();
    long chat = message.path("chat").path("id").asLong();
    try {
      return telegram.awaitCall(
          "sendPhoto",
          c ->
              c.ok()
                  && replyTo(c) == id
                  && c.param("chat_id").orElse("").equals(Long.toString(chat)));
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\nThe app's log:\n" + log(), e);
    }
  }

  private String bflReference(int index) {
    JsonNode submit = bfl.submits().get(bfl.submits().size() - 1).body();
    return submit.path(index == 1 ? "input_image" : "input_image_" + index).asText(null);
  }

  @Test
  void imaginePrivatelyWithAnAlbumAndAReplyThroughA429AndAButtonAfterARestart() throws Exception {
    startApp();
    telegram.rateLimitNext("sendPhoto", 1);
    JsonNode command = telegram.sendText(alice, "/imagine a red fox in snow --seed 7");
    TelegramCall first = photoFor(command);
    assertThat(first.param("caption").orElseThrow())
        .startsWith("a red fox in snow\n")
        .contains("seed 7");
    assertThat(telegram.calls("sendPhoto"))
        .extracting(TelegramCall::status)
        .containsExactly(429, 200);
    assertThat(first.buttonData())
        .hasSize(5)
        .allSatisfy(data -> assertThat(data).startsWith("fx:"));
    assertThat(bfl.submits()).as("the 429 did not make the image again").hasSize(1);

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
    photoFor(album.get(1));
    assertThat(bfl.submits()).hasSize(2);
    assertThat(sha256(Base64.getDecoder().decode(bflReference(1)))).isEqualTo(sha256(a));
    assertThat(sha256(Base64.getDecoder().decode(bflReference(2)))).isEqualTo(sha256(b));
    assertThat(sha256(Base64.getDecoder().decode(bflReference(3)))).isEqualTo(sha256(c));

    byte[] cat = TestImages.noisePng(80, 40, 9);
    JsonNode photo = telegram.sendPhotos(alice, null, cat).get(0);
    JsonNode reply =
        telegram.replyText(
            alice, photo.path("message_id").asLong(), "/imagine the same cat, but blue");
    photoFor(reply);
    assertThat(sha256(Base64.getDecoder().decode(bflReference(1)))).isEqualTo(sha256(cat));
    assertThat(bflReference(2)).isNull();

    stopApp();
    startApp(); // a new process on the same data folder
    long imageMessage = first.result().path("message_id").asLong();
    String reroll = first.buttonData().get(0);
    String query = telegram.pressButton(alice, imageMessage, reroll);
    TelegramCall again = telegram.awaitCall("sendPhoto", p -> p.ok() && replyTo(p) == imageMessage);
    assertThat(telegram.callbackAnswered(query)).contains(true);
    assertThat(again.param("caption").orElseThrow())
        .startsWith("a red fox in snow\n")
        .doesNotContain("seed 7 ");
    assertThat(bfl.submits()).hasSize(4);
    assertThat(bfl.submits().get(3).body().path("seed").asLong()).isNotEqualTo(7);
  }

  @Test
  void aMemberIsRefusedAdminCommandsAndOverQuotaIsRefusedWithTheResetTime() throws Exception {
    Files.writeString(dir.resolve("fluxbot.yaml"), "quotas:\n  credits: 1\n");
    startApp();
    JsonNode attempt =
        telegram.sendText(FakeTelegram.inGroup(FakeTelegram.ALICE), "/admin quota set 1000");
    TelegramCall refusal =
        telegram.awaitCall("sendMessage", m -> replyTo(m) == attempt.path("message_id").asLong());
    assertThat(refusal.param("text").orElseThrow())
        .startsWith("⛔ /admin is for this group's administrators");

    JsonNode command = telegram.sendText(alice, "/imagine a castle");
    TelegramCall status =
        telegram.awaitCall("sendMessage", m -> replyTo(m) == command.path("message_id").asLong());
    String statusId = Long.toString(status.result().path("message_id").asLong());
    TelegramCall refused =
        telegram.awaitCall(
            "editMessageText",
            m ->
                m.param("message_id").orElse("").equals(statusId)
                    && m.param("text").orElse("").startsWith("⚠️"));
    assertThat(refused.param("text").orElseThrow())
        .startsWith("⚠️ You have 1 of 1 credit left today; this image needs 1.4 (klein-4b).")
        .contains("Resets at 00:00 UTC (in ");
    assertThat(bfl.submits()).isEmpty();
  }

  @Test
  void aSecondBotOnTheSameSqliteFileIsRefusedWhileOneShotCommandsWorkBeside() throws Exception {
    startApp();
    int getMe = telegram.calls("getMe").size();
    Path secondLog = dir.resolve("second.log");
    Process second =
        fluxbot(telegram.token(), "run")
            .redirectErrorStream(true)
            .redirectOutput(secondLog.toFile())
            .start();
    assertThat(second.waitFor(30, TimeUnit.SECONDS)).as("refused within 30 s").isTrue();
    String said = RunningApp.read(secondLog);
    assertThat(second.exitValue()).as(said).isEqualTo(2);
    assertThat(said)
        .contains("another bot is running on the database")
        .contains("fluxbot.db")
        .doesNotContain("\tat ")
        .doesNotContain("Exception");
    assertThat(telegram.calls("getMe")).as("no platform call").hasSize(getMe);

    Process list =
        fluxbot(telegram.token(), "jobs", "list")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("list.log").toFile())
            .start();
    assertThat(list.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(list.exitValue()).as(RunningApp.read(dir.resolve("list.log"))).isZero();
    assertThat(app.isAlive()).as("the running bot goes on").isTrue();
  }

  @Test
  void aTokenTelegramRefusesFailsFastWithAClearMessage() throws Exception {
    Process p =
        fluxbot("42:not-the-fakes-token", "run")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("app.log").toFile())
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(log()).isEqualTo(2);
    assertThat(log())
        .contains("Telegram refused the bot token (FLUXBOT_TELEGRAM_TOKEN)")
        .doesNotContain("not-the-fakes-token");
  }

  @Test
  void aBotApiThatCannotBeReachedIsOneLineNotARefusedToken() throws Exception {
    int port;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort(); // closed again: nothing listens there
    }
    ProcessBuilder pb = fluxbot(telegram.token(), "run");
    pb.environment().put("FLUXBOT_TELEGRAM_API_URL", "http://127.0.0.1:" + port);
    Process p =
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("app.log").toFile()).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(log()).isEqualTo(2);
    assertThat(log())
        .contains(
            "fluxbot: Telegram's Bot API could not be reached for getMe (connection refused)."
                + " Check this machine's network and DNS (127.0.0.1 (telegram.api_base_url) must"
                + " be reachable), then run again.")
        .doesNotContain("refused the bot token")
        .doesNotContain("\tat ")
        .doesNotContain(telegram.token());
  }
}
