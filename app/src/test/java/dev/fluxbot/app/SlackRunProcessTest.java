package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeSlack;
import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeSlackExtension;
import dev.fluxbot.testkit.slack.HttpDelivery;
import dev.fluxbot.testkit.slack.Signing;
import dev.fluxbot.testkit.slack.SlackEnvelope;
import dev.fluxbot.testkit.slack.SlackFile;
import dev.fluxbot.testkit.slack.SlackMessage;
import dev.fluxbot.testkit.slack.SlackView;
import java.awt.Color;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real app ({@code fluxbot run}, a child process) against the fake Slack and the fake BFL API.
 */
class SlackRunProcessTest {
  private static final String BFL_KEY = "sk-slack-process";

  @RegisterExtension
  final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(BFL_KEY));

  @RegisterExtension
  final FakeSlackExtension slackFake =
      new FakeSlackExtension(b -> b.awaitTimeout(Duration.ofSeconds(30)));

  private final FakeBflApi bfl = bflFake.get();
  private final FakeSlack slack = slackFake.get();
  private RunningApp app;

  @TempDir Path dir;

  @AfterEach
  void stop() throws Exception {
    stopApp();
    assertThat(log())
        .as("no token or secret in the log")
        .doesNotContain(slack.botToken())
        .doesNotContain(slack.appToken())
        .doesNotContain(slack.signingSecret());
  }

  private ProcessBuilder fluxbot(Map<String, String> extra, String... args) {
    Map<String, String> env =
        new HashMap<>(
            Map.of(
                "BFL_API_KEY",
                BFL_KEY,
                "FLUXBOT_BFL_BASE_URL",
                bfl.baseUrl(),
                "FLUXBOT_SLACK_BOT_TOKEN",
                slack.botToken(),
                "FLUXBOT_SLACK_API_URL",
                slack.apiUrl()));
    env.putAll(extra);
    return FluxbotProcess.builder(dir, env, args);
  }

  /** Socket Mode: starts the app and waits for its WebSocket. */
  private void startApp() throws Exception {
    int before = slack.socketConnections();
    app =
        RunningApp.start(
            fluxbot(Map.of("FLUXBOT_SLACK_APP_TOKEN", slack.appToken()), "run", "--grace", "5"),
            dir,
            () -> slack.socketConnections() > before);
  }

  private void stopApp() throws Exception {
    if (app != null) {
      app.stop();
    }
  }

  private String log() {
    return RunningApp.read(dir.resolve("app.log"));
  }

  /** The {@code nth} (from 0) message with the four buttons. */
  private SlackMessage buttons(int nth) {
    try {
      return slack.awaitMessage(
          m ->
              m.actionIds().size() == 4
                  && slack.messages().stream()
                          .filter(x -> x.actionIds().size() == 4)
                          .toList()
                          .indexOf(m)
                      == nth);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\nThe app's log:\n" + log(), e);
    }
  }

  @Test
  void imagineTheShortcutWithTwoImagesAndAButtonAfterARestart() throws Exception {
    startApp();
    SlackEnvelope imagine =
        slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a red fox --seed 7");
    JsonNode ack = slack.awaitAck(imagine);
    assertThat(ack.path("text").asText()).startsWith("Queued #1: a red fox --seed 7");
    SlackMessage first = buttons(0);
    assertThat(first.actionIds()).allSatisfy(id -> assertThat(id).startsWith("fx:"));
    assertThat(first.files()).as("the buttons are on the image's own message").isNotEmpty();
    assertThat(first.allText()).contains("seed 7");
    String progress = slack.calls("chat.postMessage").get(0).param("text");
    assertThat(progress).contains("a red fox");
    slack.awaitCall(
        "chat.delete", c -> c.ok()); // the progress message goes once the image is there

    byte[] red = TestImages.solidPng(64, 48, Color.RED);
    byte[] blue = TestImages.solidPng(64, 48, Color.BLUE);
    SlackFile a = slack.addUserFile(FakeSlack.BOB, red, "red.png");
    SlackFile b = slack.addUserFile(FakeSlack.BOB, blue, "blue.png");
    SlackMessage shared =
        slack.postAsUser(FakeSlack.BOB, FakeSlack.CHANNEL, null, "two swatches", List.of(a, b));
    slack.awaitAck(slack.messageShortcut(FakeSlack.ALICE, shared, "imagine_with_images"));
    SlackView form = slack.awaitView(v -> true);
    slack.awaitAck(
        slack.submitView(FakeSlack.ALICE, form, Map.of("prompt", "a flag in these two colours")));
    buttons(1);
    JsonNode submit = bfl.submits().get(1).body();
    assertThat(submit.path("input_image").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(red));
    assertThat(submit.path("input_image_2").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(blue));
    assertThat(submit.toString()).doesNotContain(slack.baseUrl());

    stopApp();
    startApp(); // a new process on the same data folder
    String reroll = first.actionIds().get(0);
    slack.awaitAck(slack.clickButton(FakeSlack.BOB, first, reroll));
    buttons(2);
    assertThat(bfl.submits()).hasSize(3);
    assertThat(bfl.submits().get(2).body().path("prompt").asText()).isEqualTo("a red fox");
    assertThat(bfl.submits().get(2).body().path("seed").asLong()).isNotEqualTo(7);
  }

  @Test
  void aNonAdminIsRefusedAndOverQuotaIsRefusedWithTheResetTime() throws Exception {
    Files.writeString(dir.resolve("fluxbot.yaml"), "quotas:\n  credits: 1\n");
    startApp();
    slack.slashCommand(
        FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine-admin", "quota set 100 day <@U0BOB|bob>");
    SlackMessage refused = slack.awaitEphemeral(m -> m.visibleTo().equals(FakeSlack.ALICE));
    assertThat(refused.text()).startsWith("⛔ /imagine-admin is for workspace admins and owners");

    slack.awaitAck(slack.slashCommand(FakeSlack.BOB, FakeSlack.CHANNEL, "/imagine", "a castle"));
    SlackMessage refusal = slack.awaitEphemeral(m -> m.visibleTo().equals(FakeSlack.BOB));
    assertThat(refusal.text())
        .startsWith("⚠️ You have 1 of 1 credit left today; this image needs 1.4 (klein-4b).")
        .contains("Resets at 00:00 UTC (in ");
    assertThat(bfl.submits()).isEmpty();
  }

  @Test
  void inHttpModeConfiguredByTheFileUnsignedAndWronglySignedRequestsAreRefused() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    Path botToken = Files.writeString(dir.resolve("slack-bot-token"), slack.botToken() + "\n");
    Path signingSecret =
        Files.writeString(dir.resolve("slack-signing-secret"), slack.signingSecret() + "\n");
    Files.writeString(
        dir.resolve("fluxbot.yaml"),
        "slack:\n  bot_token_file: "
            + botToken
            + "\n  signing_secret_file: "
            + signingSecret
            + "\n  mode: http\n  http_listen: 127.0.0.1:"
            + port
            + "\n");
    app =
        RunningApp.start(
            fluxbot(Map.of("FLUXBOT_SLACK_BOT_TOKEN", ""), "run", "--grace", "5"),
            dir,
            () -> log().contains("running (slack)"));
    URI url = URI.create("http://127.0.0.1:" + port + "/slack/events");

    HttpDelivery unsigned =
        slack.sendOverHttp(
            url,
            slack.slashCommandEnvelope(
                FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "unsigned fox"),
            Signing.UNSIGNED);
    HttpDelivery forged =
        slack.sendOverHttp(
            url,
            slack.slashCommandEnvelope(
                FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "forged fox"),
            Signing.WRONG_SECRET);
    HttpDelivery signed =
        slack.sendOverHttp(
            url,
            slack.slashCommandEnvelope(
                FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "signed fox"),
            Signing.SIGNED);
    assertThat(unsigned.status()).isEqualTo(401);
    assertThat(forged.status()).isEqualTo(401);
    assertThat(signed.status()).as(log()).isEqualTo(200);
    buttons(0);
    assertThat(bfl.submits())
        .singleElement()
        .satisfies(s -> assertThat(s.body().path("prompt").asText()).isEqualTo("signed fox"));
  }
}
