package dev.fluxbot.slack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeSlack;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeSlackExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import dev.fluxbot.testkit.slack.SlackMessage;
import dev.fluxbot.testkit.slack.SlackUser;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Replies in the user's language through the real Bolt client against the fake Slack and the fake
 * BFL API: Slack's commands carry no language, so the bot asks {@code users.info} with {@code
 * include_locale=true} once per user (then cached); German and Spanish are shipped, anything else
 * is English.
 */
class SlackLanguagesTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String DORA = "U0DORA0DE";
  private static final String FRANK = "U0FRANK0FR";

  @RegisterExtension
  final FakeSlackExtension slackFake =
      new FakeSlackExtension(
          b ->
              b.awaitTimeout(WAIT)
                  .user(SlackUser.member(DORA, "dora", "de-DE"))
                  .user(SlackUser.member(FRANK, "frank", "fr-FR")));

  @RegisterExtension final FakeBflApiExtension bflFake = new FakeBflApiExtension();
  private final FakeSlack slack = slackFake.get();
  private final FakeBflApi bfl = bflFake.get();

  @Order(Integer.MAX_VALUE) // stops before the fakes close
  @RegisterExtension
  final FluxbotCoreExtension cores = new FluxbotCoreExtension(b -> b.random(new Random(1)));

  private SlackBot bot;

  @AfterEach
  void stop() {
    if (bot != null) {
      bot.close();
    }
  }

  private void startBot() throws Exception {
    OkHttpClient http = new OkHttpClient();
    BflBackend backend =
        new BflBackend(
            BflConfig.defaults(Secret.of(bfl.key()))
                .withBaseUrl(URI.create(bfl.baseUrl()))
                .withPolling(Duration.ofMillis(10), Duration.ofMillis(50)),
            http,
            InstantSource.system(),
            Sleeper.SYSTEM,
            new Random(3));
    FluxbotCore core = cores.start(b -> b.backends(backend).referenceHttp(http));
    bot =
        new SlackBot(
            new SlackBot.Config(
                SlackBot.Mode.SOCKET,
                Secret.of(slack.botToken()),
                Secret.of(slack.appToken()),
                null,
                slack.apiUrl(),
                new InetSocketAddress("127.0.0.1", 0),
                Set.of()),
            core.chatServices(SlackBot.DELIVERIES_KEPT, d -> {}),
            http);
    bot.start();
    slack.awaitSocketConnections(1);
  }

  private String ack(String user, String text) {
    return slack
        .awaitAck(slack.slashCommand(user, FakeSlack.CHANNEL, "/imagine", text))
        .path("text")
        .asText();
  }

  @Test
  void aGermanUserGetsAGermanErrorAndAGermanImageMessage() throws Exception {
    startBot();
    assertThat(ack(DORA, "ein Fuchs --ar 7"))
        .startsWith("⚠️ --ar: muss B:H sein (etwa 16:9) oder eine Vorgabe (")
        .endsWith("erhalten: \"7\". Beispiel: --ar 16:9.");

    assertThat(ack(DORA, "ein Fuchs --seed 7"))
        .isEqualTo("Warteschlange Nr. 1: ein Fuchs --seed 7. Den Fortschritt sehen Sie im Kanal.");
    SlackMessage image = slack.awaitMessage(m -> m.actionIds().size() == 4);
    assertThat(image.blocks().get(0).path("text").path("text").asText())
        .startsWith("*ein Fuchs*")
        .contains("<@" + DORA + ">")
        .contains("· Seed 7 ·");
    assertThat(image.buttons())
        .extracting(b -> b.path("text").path("text").asText())
        .containsExactly("Neu würfeln", "Variieren", "2K", "Als Referenz nutzen");
    assertThat(slack.calls("users.info"))
        .as("one users.info for dora's language, with include_locale; then it is cached")
        .filteredOn(c -> DORA.equals(c.param("user")))
        .singleElement()
        .satisfies(c -> assertThat(c.param("include_locale")).isIn("1", "true"));
  }

  @Test
  void aUserInALanguageNotShippedAndADefaultUserGetEnglish() throws Exception {
    startBot();
    assertThat(ack(FRANK, "un renard --ar 7"))
        .startsWith("⚠️ --ar: must be W:H (like 16:9) or a preset (")
        .endsWith("got \"7\". Example: --ar 16:9.");
    assertThat(ack(FakeSlack.ALICE, "a fox --ar 7")).startsWith("⚠️ --ar: must be W:H");
  }

  @Test
  void theAddressKeepsTheLanguageForAnAnswerAfterARestart() {
    SlackAddress spanish =
        new SlackAddress("T1", "C1", null, "U1", null).withLocale(Locale.forLanguageTag("es"));
    assertThat(SlackAddress.parse(spanish.toJson()))
        .hasValueSatisfying(a -> assertThat(a.locale()).isEqualTo(Locale.forLanguageTag("es")));
  }
}
