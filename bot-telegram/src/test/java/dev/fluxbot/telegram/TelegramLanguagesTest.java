package dev.fluxbot.telegram;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeTelegram;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeTelegramExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import dev.fluxbot.testkit.telegram.TelegramCall;
import dev.fluxbot.testkit.telegram.TelegramContext;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Replies in the user's language through the real telegrambots client against the fake Bot API and
 * the fake BFL API: {@code from.language_code} picks German or Spanish; anything else is English.
 */
class TelegramLanguagesTest {
  private static final String BFL_KEY = "sk-telegram-languages";

  private final Harness.RecordingSleeper sleeper = new Harness.RecordingSleeper();

  @RegisterExtension
  final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(BFL_KEY));

  @RegisterExtension
  final FakeTelegramExtension telegramFake =
      new FakeTelegramExtension(b -> b.awaitTimeout(Duration.ofSeconds(20)).clock(sleeper));

  private final FakeBflApi bfl = bflFake.get();
  private final FakeTelegram telegram = telegramFake.get();
  private final TelegramContext alice = FakeTelegram.privateChat(FakeTelegram.ALICE);

  @Order(Integer.MAX_VALUE) // stops before the fakes close
  @RegisterExtension
  final FluxbotCoreExtension cores = new FluxbotCoreExtension();

  private Harness app;

  @AfterEach
  void stop() throws Exception {
    if (app != null) {
      app.close();
    }
  }

  private TelegramCall answer(String startsWith) {
    return telegram.awaitCall(
        "sendMessage", c -> c.param("text").orElse("").startsWith(startsWith));
  }

  @Test
  void aGermanUserGetsAGermanErrorThatNamesTheFieldTheRuleAndTheValue() {
    app = new Harness(cores, telegram, bfl, sleeper);
    telegram.setLanguage(FakeTelegram.ALICE, "de");
    telegram.sendText(alice, "/imagine ein Fuchs --ar 7");

    assertThat(answer("⚠️").param("text").orElseThrow())
        .startsWith("⚠️ --ar: muss B:H sein (etwa 16:9) oder eine Vorgabe (")
        .endsWith("erhalten: \"7\". Beispiel: --ar 16:9.");
    assertThat(bfl.submits()).isEmpty();
  }

  @Test
  void aGermanUserSeesGermanStatusCaptionAndButtons() {
    app = new Harness(cores, telegram, bfl, sleeper);
    telegram.setLanguage(FakeTelegram.ALICE, "de-AT");
    telegram.sendText(alice, "/imagine ein roter Fuchs --seed 7");

    answer("⏳ In Arbeit…");
    TelegramCall photo = telegram.awaitCall("sendPhoto", TelegramCall::ok);
    assertThat(photo.param("caption").orElseThrow())
        .startsWith("ein roter Fuchs\n")
        .contains("klein-4b · 1024×1024 · Seed 7 · ")
        .contains("Credits");
    var keyboard = photo.json("reply_markup").path("inline_keyboard");
    assertThat(keyboard.get(0).get(0).path("text").asText()).isEqualTo("Neu würfeln");
    assertThat(keyboard.get(1).get(0).path("text").asText()).isEqualTo("Original als Datei");
    assertThat(telegram.calls("editMessageText"))
        .anySatisfy(
            c ->
                assertThat(c.param("text").orElse(""))
                    .startsWith("🎨 In Arbeit: klein-4b, 1024×1024, Seed 7"));
  }

  @Test
  void aSpanishUserGetsSpanishAndAnUnknownOrMissingLanguageGetsEnglish() {
    app = new Harness(cores, telegram, bfl, sleeper);
    telegram.setLanguage(FakeTelegram.ALICE, "es");
    telegram.sendText(alice, "/imagine un zorro --seed abc");
    assertThat(answer("⚠️ --seed").param("text").orElseThrow())
        .isEqualTo(
            "⚠️ --seed: debe ser un número entero de 0 a 4294967295, o last; recibido: \"abc\"."
                + " Ejemplo: --seed 42.");

    TelegramContext bob = FakeTelegram.privateChat(FakeTelegram.BOB);
    telegram.setLanguage(FakeTelegram.BOB, "uk");
    telegram.sendText(bob, "/imagine a fox --seed abc");
    assertThat(
            telegram
                .awaitCall(
                    "sendMessage",
                    c ->
                        c.param("chat_id").orElse("").equals(Long.toString(FakeTelegram.BOB))
                            && c.param("text").orElse("").startsWith("⚠️"))
                .param("text")
                .orElseThrow())
        .isEqualTo(
            "⚠️ --seed: must be a whole number from 0 to 4294967295, or last; got \"abc\"."
                + " Example: --seed 42.");
  }

  @Test
  void theReplyAddressKeepsTheLanguageForAnAnswerAfterARestart() {
    ReplyAddress german = new ReplyAddress(1L, 2, 3, 4L, false, Locale.GERMAN);
    assertThat(ReplyAddress.parse(german.toJson())).contains(german);
    assertThat(ReplyAddress.parse("{\"platform\":\"telegram\",\"chat\":1,\"user\":4}"))
        .as("an address stored before languages existed: English")
        .hasValueSatisfying(a -> assertThat(a.locale()).isEqualTo(Locale.ENGLISH));
  }
}
