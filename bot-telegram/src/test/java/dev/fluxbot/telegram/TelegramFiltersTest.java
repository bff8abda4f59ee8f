package dev.fluxbot.telegram;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeTelegram;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeTelegramExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import dev.fluxbot.testkit.telegram.TelegramCall;
import dev.fluxbot.testkit.telegram.TelegramContext;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Word filters on Telegram, through the real telegrambots client against the fake Bot API and the
 * real core: {@code /admin filter …} in a group and in the bot admins' private chat, and a matching
 * {@code /imagine} refused before anything reaches BFL or is charged.
 */
class TelegramFiltersTest {
  private final Harness.RecordingSleeper sleeper = new Harness.RecordingSleeper();

  @RegisterExtension
  final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key("sk-telegram-filters"));

  @RegisterExtension
  final FakeTelegramExtension telegramFake =
      new FakeTelegramExtension(b -> b.awaitTimeout(Duration.ofSeconds(20)).clock(sleeper));

  private final FakeBflApi bfl = bflFake.get();
  private final FakeTelegram telegram = telegramFake.get();

  @Order(Integer.MAX_VALUE) // registered last, so it stops before the fakes close
  @RegisterExtension
  final FluxbotCoreExtension cores = new FluxbotCoreExtension();

  private Harness app;

  @AfterEach
  void stop() {
    if (app != null) {
      app.close();
    }
  }

  private static long replyTo(TelegramCall c) {
    return c.json("reply_parameters").path("message_id").asLong();
  }

  /** Sends a command and returns the bot's answer to it. */
  private String answer(TelegramContext where, String text) {
    JsonNode sent = telegram.sendText(where, text);
    return telegram
        .awaitCall("sendMessage", c -> replyTo(c) == sent.path("message_id").asLong())
        .param("text")
        .orElseThrow();
  }

  /** Sends an /imagine and returns the refusal the status message turned into. */
  private String refusal(TelegramContext where, String text) {
    JsonNode sent = telegram.sendText(where, text);
    TelegramCall status =
        telegram.awaitCall("sendMessage", c -> replyTo(c) == sent.path("message_id").asLong());
    long statusId = status.result().path("message_id").asLong();
    String first = status.param("text").orElse("");
    if (first.startsWith("⚠️")) {
      return first;
    }
    return telegram
        .awaitCall(
            "editMessageText",
            c ->
                c.param("message_id").orElse("").equals(Long.toString(statusId))
                    && c.param("text").orElse("").startsWith("⚠️"))
        .param("text")
        .orElseThrow();
  }

  @Test
  void aGroupsFilterAndAnEveryChatFilterRefuseMatchingPromptsBeforeBflOrCredits() {
    app = new Harness(cores, telegram, bfl, sleeper);
    TelegramContext owner = FakeTelegram.inGroup(FakeTelegram.OWNER);
    TelegramContext aliceInGroup = FakeTelegram.inGroup(FakeTelegram.ALICE);
    String bot = "/imagine@" + telegram.botUsername() + " ";

    assertThat(answer(owner, "/admin filter add Red  Fox"))
        .isEqualTo(
            "Added the word filter \"Red Fox\" in this group. Prompts that match it are refused"
                + " before anything is charged.");
    assertThat(answer(owner, "/admin filter add --regex nud(e|ity"))
        .startsWith("⚠️ pattern: must be a valid regular expression; \"nud(e|ity\" is not (");
    assertThat(answer(owner, "/admin filter list"))
        .isEqualTo("Word filters in this group (1):\n• word \"Red Fox\"");

    assertThat(refusal(aliceInGroup, bot + "a red fóx in snow"))
        .isEqualTo(
            "⚠️ prompt: must not match the word filters set for this bot; one of them matched."
                + " Nothing was made or charged. Rephrase the prompt and try again.");

    TelegramContext adminChat = FakeTelegram.privateChat(Harness.ADMINS.iterator().next());
    assertThat(answer(adminChat, "/admin filter add owl"))
        .isEqualTo(
            "Added the word filter \"owl\" in every chat. Prompts that match it are refused"
                + " before anything is charged.");
    TelegramContext alice = FakeTelegram.privateChat(FakeTelegram.ALICE);
    assertThat(refusal(alice, "/imagine an OWL at night")).contains("one of them matched");
    assertThat(refusal(aliceInGroup, bot + "an owl")).contains("one of them matched");

    assertThat(bfl.submits()).isEmpty();
    assertThat(
            app.quota
                .show(
                    "telegram",
                    Long.toString(FakeTelegram.GROUP),
                    Long.toString(FakeTelegram.ALICE),
                    Set.of())
                .summary())
        .doesNotContain("held");
    assertThat(app.jobs.undelivered(10)).isEmpty();
  }
}
