package dev.fluxbot.slack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.core.image.AddressPolicy;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeSlack;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeSlackExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import dev.fluxbot.testkit.slack.SlackEnvelope;
import dev.fluxbot.testkit.slack.SlackMessage;
import dev.fluxbot.testkit.slack.SlackView;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code --n 4} on Slack through the real Bolt, the real core and the BFL backend against the
 * fakes: one message with four files and the group's buttons; U2, V3 and R after a restart; the
 * refusals.
 */
class SlackGroupTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension
  final FakeSlackExtension slackFake = new FakeSlackExtension(b -> b.awaitTimeout(WAIT));

  @RegisterExtension final FakeBflApiExtension bflFake = new FakeBflApiExtension();
  private final FakeSlack slack = slackFake.get();
  private final FakeBflApi bfl = bflFake.get();

  @Order(Integer.MAX_VALUE)
  @RegisterExtension
  final FluxbotCoreExtension cores =
      new FluxbotCoreExtension(
          b ->
              b.referenceAddresses(AddressPolicy.permitting("test", List.of("127.0.0.0/8")))
                  .random(new Random(1)));

  private JobStore jobs;
  private SlackBot bot;

  @AfterEach
  void stop() throws Exception {
    closeBot();
  }

  private void closeBot() throws Exception {
    if (bot != null) {
      bot.close();
      bot = null;
    }
    cores.stop();
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
    FluxbotCore core =
        cores.start(
            b ->
                b.backends(backend)
                    .referenceHttp(http)
                    .imagineSettings(
                        new ImagineService.Settings(1000, 0, List.of(Duration.ofMillis(100)))));
    jobs = core.jobs();
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
    SlackBot started = bot;
    core.imagine().resumeUnfinished(j -> true, j -> started.replyFor(j).orElse(null));
    slack.awaitSocketConnections(1);
  }

  private SlackMessage nthWithButtons(int buttons, int nth) {
    return slack.awaitMessage(
        m ->
            m.actionIds().size() == buttons
                && slack.messages().stream()
                        .filter(x -> x.actionIds().size() == buttons)
                        .toList()
                        .indexOf(m)
                    == nth);
  }

  private static String actionLabelled(SlackMessage m, String label) {
    for (JsonNode b : m.buttons()) {
      if (b.path("text").path("text").asText().equals(label)) {
        return b.path("action_id").asText();
      }
    }
    throw new AssertionError("no button " + label + " in " + m);
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
  void fourImagesComeInOneMessageWithFourFilesAndTheButtonsWorkAfterARestart() throws Exception {
    startBot();
    slack.slashCommand(
        FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a lighthouse --n 4 --seed 11");

    SlackMessage group = nthWithButtons(13, 0);
    assertThat(group.files()).hasSize(4);
    assertThat(group.allText()).contains("4 images", "seeds 1: 11, 2: 12, 3: 13, 4: 14");
    assertThat(group.buttons())
        .extracting(b -> b.path("text").path("text").asText())
        .containsExactly(
            "U1", "U2", "U3", "U4", "R", "V1", "V2", "V3", "V4", "Ref 1", "Ref 2", "Ref 3",
            "Ref 4");
    assertThat(lastSeeds(4)).containsExactly(11L, 12L, 13L, 14L);
    String u1 = actionLabelled(group, "U1");
    assertThat(jobs.find(u1.substring(u1.lastIndexOf(':') + 1)).orElseThrow().costMilli())
        .isPositive();

    closeBot();
    slack.awaitSocketConnections(0);
    startBot();

    slack.awaitAck(slack.clickButton(FakeSlack.ALICE, group, actionLabelled(group, "U2")));
    SlackMessage u2 = nthWithButtons(4, 0);
    assertThat(u2.allText()).contains("seed 12 ");
    assertThat(bfl.submits().get(4).body().path("seed").asLong()).isEqualTo(12);
    assertThat(bfl.submits().get(4).body().path("width").asInt()).isGreaterThan(1024);

    slack.awaitAck(slack.clickButton(FakeSlack.ALICE, group, actionLabelled(group, "V3")));
    SlackView form = slack.awaitView(v -> v.callbackId().equals(SlackBot.FOLLOW_UP_VIEW));
    assertThat(form.initialValue("prompt")).isEqualTo("a lighthouse");
    slack.awaitAck(
        slack.submitView(FakeSlack.ALICE, form, Map.of("prompt", "a lighthouse in fog")));
    SlackMessage v3 = nthWithButtons(4, 1);
    assertThat(v3.allText()).contains("a lighthouse in fog", "seed 13 ");

    SlackEnvelope r = slack.clickButton(FakeSlack.ALICE, group, actionLabelled(group, "R"));
    slack.awaitAck(r);
    SlackMessage again = nthWithButtons(13, 1);
    assertThat(again.files()).hasSize(4);
    List<Long> seeds = lastSeeds(4);
    assertThat(seeds).doesNotContain(11L);
    assertThat(seeds.get(3)).isEqualTo(seeds.get(0) + 3);
  }

  @Test
  void aBadCountIsRefusedInTheAcknowledgement() throws Exception {
    startBot();
    for (String bad : List.of("0", "5", "x")) {
      JsonNode ack =
          slack.awaitAck(
              slack.slashCommand(
                  FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a fox --n " + bad));
      assertThat(ack.path("text").asText())
          .contains("--n: must be a whole number from 1 to 4", "got \"" + bad + "\"");
    }
    assertThat(bfl.submits()).isEmpty();
  }
}
