package dev.fluxbot.telegram;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeTelegram;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeTelegramExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import dev.fluxbot.testkit.telegram.TelegramCall;
import dev.fluxbot.testkit.telegram.TelegramContext;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code --n 4} on Telegram through the real telegrambots client, the real core and the BFL backend
 * against the fakes: an album of four (no buttons: the fake refuses a keyboard on sendMediaGroup)
 * and one message with the buttons; U2, V3 and R after a restart; the refusals.
 */
class TelegramGroupTest {
  private final Harness.RecordingSleeper sleeper = new Harness.RecordingSleeper();

  @RegisterExtension
  final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key("sk-telegram-groups"));

  @RegisterExtension
  final FakeTelegramExtension telegramFake =
      new FakeTelegramExtension(b -> b.awaitTimeout(Duration.ofSeconds(20)).clock(sleeper));

  private final FakeBflApi bfl = bflFake.get();
  private final FakeTelegram telegram = telegramFake.get();
  private final TelegramContext alice = FakeTelegram.privateChat(FakeTelegram.ALICE);

  @Order(Integer.MAX_VALUE)
  @RegisterExtension
  final FluxbotCoreExtension cores = new FluxbotCoreExtension();

  private Harness app;

  @AfterEach
  void stop() {
    if (app != null) {
      app.close();
    }
  }

  private void startApp(long creditsMilli) {
    app =
        new Harness(
            cores,
            telegram,
            bfl,
            sleeper,
            new QuotaService.Settings(
                ZoneOffset.UTC, QuotaService.Period.DAY, creditsMilli, 2, null));
  }

  private TelegramCall album(int nth) {
    return telegram.awaitCall(
        "sendMediaGroup",
        c ->
            c.ok()
                && telegram.calls("sendMediaGroup").stream().filter(TelegramCall::ok).count() >= nth
                && telegram.calls("sendMediaGroup").stream()
                        .filter(TelegramCall::ok)
                        .toList()
                        .indexOf(c)
                    == nth - 1);
  }

  private TelegramCall buttonsFor(String seeds) {
    return telegram.awaitCall(
        "sendMessage", c -> c.ok() && c.param("text").orElse("").contains(seeds));
  }

  private static long messageId(TelegramCall c) {
    return c.result().path("message_id").asLong();
  }

  private List<Long> lastSeeds(int n) {
    List<Long> seeds = new ArrayList<>();
    var submits = bfl.submits();
    for (var s : submits.subList(submits.size() - n, submits.size())) {
      seeds.add(s.body().path("seed").asLong());
    }
    seeds.sort(Long::compare);
    return seeds;
  }

  @Test
  void fourImagesComeAsAnAlbumAndAButtonMessageAndTheButtonsWorkAfterARestart() throws Exception {
    startApp(100_000);
    telegram.sendText(alice, "/imagine a lighthouse at dusk --n 4 --seed 11");

    TelegramCall album = album(1);
    JsonNode media = album.json("media");
    assertThat(media).hasSize(4);
    List<String> captions = new ArrayList<>();
    media.forEach(m -> captions.add(m.path("caption").asText()));
    assertThat(captions)
        .containsExactly("1 · seed 11", "2 · seed 12", "3 · seed 13", "4 · seed 14");
    assertThat(album.param("reply_markup")).isEmpty();
    TelegramCall buttons = buttonsFor("seeds 1: 11, 2: 12, 3: 13, 4: 14");
    assertThat(buttons.param("text").orElseThrow()).startsWith("a lighthouse at dusk\n4 images");
    assertThat(buttons.json("reply_parameters").path("message_id").asLong())
        .isEqualTo(album.result().get(0).path("message_id").asLong());
    List<String> data = buttons.buttonData();
    assertThat(data)
        .hasSize(13)
        .allMatch(d -> d.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 64);
    assertThat(lastSeeds(4)).containsExactly(11L, 12L, 13L, 14L);
    String groupJob = data.get(0).substring(data.get(0).lastIndexOf(':') + 1);
    assertThat(app.jobs.find(groupJob).orElseThrow().costMilli()).isPositive();

    app.close();
    app = null;
    sleeper.sleep(Duration.ofSeconds(5));
    startApp(100_000);
    long under = messageId(buttons);

    telegram.pressButton(alice, under, data.get(1)); // U2
    TelegramCall u2 = telegram.awaitCall("sendPhoto", TelegramCall::ok);
    assertThat(u2.param("caption").orElseThrow()).contains("seed 12 ");
    var twoK = bfl.submits().get(bfl.submits().size() - 1).body();
    assertThat(twoK.path("seed").asLong()).isEqualTo(12);
    assertThat(twoK.path("width").asInt()).isGreaterThan(1024);

    telegram.pressButton(alice, under, data.get(7)); // V3
    TelegramCall ask =
        telegram.awaitCall("sendMessage", c -> c.param("text").orElse("").contains("✏️ Vary"));
    telegram.replyText(alice, messageId(ask), "a lighthouse at dawn");
    TelegramCall varied =
        telegram.awaitCall(
            "sendPhoto",
            c -> c.ok() && c.param("caption").orElse("").startsWith("a lighthouse at dawn"));
    assertThat(varied.param("caption").orElseThrow()).contains("seed 13 ");

    telegram.pressButton(alice, under, data.get(4)); // R
    TelegramCall again = album(2);
    assertThat(again.json("media")).hasSize(4);
    List<Long> seeds = lastSeeds(4);
    assertThat(seeds).doesNotContain(11L);
    assertThat(seeds.get(3)).isEqualTo(seeds.get(0) + 3);
  }

  @Test
  void badCountsAndTooFewCreditsAreRefusedAndNothingIsSubmitted() {
    startApp(1_000);
    telegram.sendText(alice, "/imagine a fox --n 5");
    TelegramCall bad = // refused as it is read, before any status message
        telegram.awaitCall(
            "sendMessage",
            c -> c.param("text").orElse("").contains("--n: must be a whole number from 1 to 4"));
    assertThat(bad.param("text").orElseThrow()).contains("got \"5\"");

    telegram.sendText(alice, "/imagine a fox --n 4");
    TelegramCall refused =
        telegram.awaitCall(
            "editMessageText", c -> c.param("text").orElse("").contains("these 4 images need"));
    assertThat(refused.param("text").orElseThrow()).contains("--n 4:", "you have 1 left");
    assertThat(bfl.submits()).isEmpty();
    assertThat(app.quota.held()).isEmpty();
  }
}
