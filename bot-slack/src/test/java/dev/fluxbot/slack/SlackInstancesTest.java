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
import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeSlack;
import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeSlackExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import dev.fluxbot.testkit.slack.HttpDelivery;
import dev.fluxbot.testkit.slack.Signing;
import dev.fluxbot.testkit.slack.SlackFile;
import dev.fluxbot.testkit.slack.SlackMessage;
import dev.fluxbot.testkit.slack.SlackView;
import java.awt.Color;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two instances of one Slack app in HTTP mode on one PostgreSQL database (issue 16): a message
 * shortcut's form opened by one instance and submitted to the other finds its images, once.
 */
class SlackInstancesTest {
  private static final AddressPolicy FAKES_ON_LOOPBACK =
      AddressPolicy.permitting("test", List.of("127.0.0.0/8"));

  @RegisterExtension
  final FakeSlackExtension slackFake =
      new FakeSlackExtension(b -> b.awaitTimeout(Duration.ofSeconds(30)));

  @RegisterExtension final FakeBflApiExtension bflFake = new FakeBflApiExtension();
  private final FakeSlack slack = slackFake.get();
  private final FakeBflApi bfl = bflFake.get();
  private final List<SlackBot> bots = new ArrayList<>();

  @Order(Integer.MAX_VALUE) // registered last, so it stops before the fakes close
  @RegisterExtension
  final FluxbotCoreExtension cores =
      new FluxbotCoreExtension(b -> b.referenceAddresses(FAKES_ON_LOOPBACK).random(new Random(1)));

  @AfterEach
  void stop() {
    bots.forEach(SlackBot::close);
  }

  /** An instance: its own core on the shared database and a bot in HTTP mode; its Request URL. */
  private URI instance() {
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
    UnaryOperator<FluxbotCore.Builder> options =
        b ->
            b.backends(backend)
                .referenceHttp(http)
                .imagineSettings(
                    new ImagineService.Settings(1000, 0, List.of(Duration.ofMillis(100))));
    FluxbotCore core = bots.isEmpty() ? cores.start(options) : cores.startBeside(options);
    SlackBot bot =
        new SlackBot(
            new SlackBot.Config(
                SlackBot.Mode.HTTP,
                Secret.of(slack.botToken()),
                null,
                Secret.of(slack.signingSecret()),
                slack.apiUrl(),
                new InetSocketAddress("127.0.0.1", 0),
                Set.of()),
            core.chatServices(SlackBot.DELIVERIES_KEPT, d -> {}),
            http);
    bots.add(bot);
    bot.start();
    return bot.requestUrl().orElseThrow();
  }

  @Test
  void aShortcutFormOpenedByOneInstanceAndSubmittedToAnotherRunsWithItsImagesOnce() {
    cores.on(Database.Dialect.POSTGRESQL);
    URI first = instance();
    URI second = instance();
    byte[] red = TestImages.solidPng(64, 48, Color.RED);
    byte[] blue = TestImages.solidPng(64, 48, Color.BLUE);
    SlackFile a = slack.addUserFile(FakeSlack.BOB, red, "red.png");
    SlackFile b = slack.addUserFile(FakeSlack.BOB, blue, "blue.png");
    SlackMessage shared =
        slack.postAsUser(FakeSlack.BOB, FakeSlack.CHANNEL, null, "two swatches", List.of(a, b));

    HttpDelivery opened =
        slack.sendOverHttp(
            first,
            slack.messageShortcutEnvelope(FakeSlack.ALICE, shared, SlackBot.SHORTCUT),
            Signing.SIGNED);
    assertThat(opened.status()).isEqualTo(200);
    SlackView form = slack.awaitView(v -> v.callbackId().equals(SlackBot.MESSAGE_VIEW));
    assertThat(form.privateMetadata()).doesNotContain("files-pri").doesNotContain(slack.baseUrl());

    HttpDelivery submitted =
        slack.sendOverHttp(
            second,
            slack.viewSubmissionEnvelope(
                FakeSlack.ALICE, form, Map.of("prompt", "a flag in these two colours")),
            Signing.SIGNED);
    assertThat(submitted.status()).isEqualTo(200);
    assertThat(submitted.body())
        .as("no errors: the form found its images")
        .doesNotContain("errors");
    slack.awaitMessage(m -> m.actionIds().size() == 4);
    JsonNode submit = bfl.submits().get(0).body();
    assertThat(submit.path("input_image").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(red));
    assertThat(submit.path("input_image_2").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(blue));
    assertThat(submit.path("prompt").asText()).isEqualTo("a flag in these two colours");

    HttpDelivery again =
        slack.sendOverHttp(
            first,
            slack.viewSubmissionEnvelope(FakeSlack.ALICE, form, Map.of("prompt", "once more")),
            Signing.SIGNED);
    assertThat(again.body())
        .as("the files were taken once; the form says so")
        .contains("errors")
        .contains("This form expired");
    assertThat(bfl.submits()).hasSize(1);
    int left =
        cores
            .database()
            .read(
                c -> {
                  try (var st = c.prepareStatement("SELECT count(*) FROM pending_forms");
                      var rs = st.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                  }
                });
    assertThat(left).as("the row is deleted once used").isZero();
  }
}
