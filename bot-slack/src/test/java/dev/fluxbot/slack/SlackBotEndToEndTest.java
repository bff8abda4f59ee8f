package dev.fluxbot.slack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.slack.api.socket_mode.SocketModeClient;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.core.image.AddressPolicy;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeSlack;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeSlackExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import dev.fluxbot.testkit.slack.HttpDelivery;
import dev.fluxbot.testkit.slack.Signing;
import dev.fluxbot.testkit.slack.SlackCall;
import dev.fluxbot.testkit.slack.SlackEnvelope;
import dev.fluxbot.testkit.slack.SlackFile;
import dev.fluxbot.testkit.slack.SlackMessage;
import dev.fluxbot.testkit.slack.SlackView;
import java.awt.Color;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * The adapter in-process, end to end: the real Bolt connected to the fake Slack (Socket Mode, or
 * HTTP mode with signed requests), the real core (SQLite, the disk image store, quotas) and the
 * real BFL client against the fake BFL API. Slack's rate limits are waited out on a sleeper that
 * records instead of sleeping.
 */
class SlackBotEndToEndTest {
  /** The fakes serve their files on loopback, which a real bot refuses to fetch references from. */
  private static final AddressPolicy FAKES_ON_LOOPBACK =
      AddressPolicy.permitting("test", List.of("127.0.0.0/8"));

  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension
  final FakeSlackExtension slackFake = new FakeSlackExtension(b -> b.awaitTimeout(WAIT));

  @RegisterExtension final FakeBflApiExtension bflFake = new FakeBflApiExtension();
  private final FakeSlack slack = slackFake.get();
  private final FakeBflApi bfl = bflFake.get();
  private final List<Duration> slackWaits = new CopyOnWriteArrayList<>();
  private final Sleeper recordingSleeper = slackWaits::add;

  /**
   * What the bot waits out Slack's rate limits with: recording by default, really sleeping where
   * timing is the test.
   */
  private Sleeper slackSleeper = recordingSleeper;

  /** The core a bot runs on; {@link #startBot} again is a restart on the same database. */
  @Order(Integer.MAX_VALUE) // registered last, so it stops before the fakes close
  @RegisterExtension
  final FluxbotCoreExtension cores =
      new FluxbotCoreExtension(b -> b.referenceAddresses(FAKES_ON_LOOPBACK).random(new Random(1)));

  private JobStore jobs;
  private ImageStore images;
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
    cores.stop(); // as the process stops: running jobs finish, the database closes
  }

  /** A core (on the extension's database) and a bot on it: what {@code fluxbot run} wires. */
  private void startBot(SlackBot.Mode mode, Set<String> admins) throws Exception {
    startBot(mode, admins, List.of(Duration.ofMillis(100), Duration.ofMillis(200)));
  }

  /**
   * @param deliveryRetries the core's waits before trying a failed delivery again (none: at the
   *     next start)
   */
  private void startBot(SlackBot.Mode mode, Set<String> admins, List<Duration> deliveryRetries)
      throws Exception {
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
                    .imagineSettings(new ImagineService.Settings(1000, 0, deliveryRetries)));
    jobs = core.jobs();
    images = core.images();
    bot =
        new SlackBot(
            new SlackBot.Config(
                mode,
                Secret.of(slack.botToken()),
                mode == SlackBot.Mode.SOCKET ? Secret.of(slack.appToken()) : null,
                mode == SlackBot.Mode.HTTP ? Secret.of(slack.signingSecret()) : null,
                slack.apiUrl(),
                new InetSocketAddress("127.0.0.1", 0),
                admins),
            core.chatServices(SlackBot.DELIVERIES_KEPT, slackSleeper),
            http);
    bot.start();
    SlackBot started = bot;
    core.imagine().resumeUnfinished(j -> true, j -> started.replyFor(j).orElse(null));
    if (mode == SlackBot.Mode.SOCKET) {
      slack.awaitSocketConnections(1);
    }
  }

  private void startBot() throws Exception {
    startBot(SlackBot.Mode.SOCKET, Set.of());
  }

  private static SlackMessage buttonsOf(FakeSlack slack, int nth) {
    return slack.awaitMessage(
        m ->
            m.actionIds().size() == 4
                && slack.messages().stream()
                        .filter(x -> x.actionIds().size() == 4)
                        .toList()
                        .indexOf(m)
                    == nth);
  }

  private List<SlackMessage> imageMessages() {
    return slack.messages().stream()
        .filter(m -> !m.files().isEmpty() && m.user().equals(FakeSlack.BOT_USER_ID))
        .toList();
  }

  private static String jobIdOf(SlackMessage buttons) {
    String id = buttons.actionIds().get(0);
    return id.substring(id.lastIndexOf(':') + 1);
  }

  @Test
  void theBotSaysWhetherItsSocketIsConnected() throws Exception {
    startBot();
    assertThat(bot.platform()).isEqualTo("slack");
    assertThat(bot.connection())
        .isEqualTo(dev.fluxbot.core.chat.ChatConnection.Status.connected("Socket Mode"));
    slack.refreshSocket(); // Slack asks for a new connection: the old one closes, a new one opens
    Await.until("connected again", WAIT, () -> bot.connection().connected());
    slack.close(); // Slack is gone
    Await.until(
        "the bot says it is disconnected",
        WAIT,
        () -> bot.connection().state() == dev.fluxbot.core.chat.ChatConnection.State.DISCONNECTED);
    assertThat(bot.connection().detail()).startsWith("Socket Mode: the WebSocket closed");
    bot.close();
    assertThat(bot.connection())
        .isEqualTo(dev.fluxbot.core.chat.ChatConnection.Status.disconnected("closed"));
    bot = null;
  }

  @Test
  void imagineIsAckedAtOnceShowsProgressThenLeavesOneMessageTheImageWithItsCaptionAndFourButtons()
      throws Exception {
    startBot();

    SlackEnvelope imagine =
        slack.slashCommand(
            FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a red fox &amp; a hen --seed 7");

    JsonNode ack = slack.awaitAck(imagine);
    assertThat(ack.path("response_type").asText()).isEqualTo("ephemeral");
    assertThat(ack.path("text").asText())
        .isEqualTo("Queued #1: a red fox &amp; a hen --seed 7. Progress shows in the channel.");
    SlackMessage buttons = buttonsOf(slack, 0);
    String jobId = jobIdOf(buttons);
    assertThat(buttons.actionIds())
        .containsExactly(
            "fx:reroll:" + jobId, "fx:vary:" + jobId, "fx:2k:" + jobId, "fx:ref:" + jobId);
    assertThat(buttons.buttons())
        .extracting(b -> b.path("text").path("text").asText())
        .containsExactly("Reroll", "Vary", "2K", "Use as reference");
    SlackMessage image = imageMessages().get(0);
    assertThat(image.ts()).as("the buttons are on the image's own message").isEqualTo(buttons.ts());
    assertThat(image.channel()).isEqualTo(FakeSlack.CHANNEL);
    assertThat(image.blocks().get(0).path("text").path("text").asText())
        .startsWith("*a red fox &amp; a hen*")
        .contains("<@" + FakeSlack.ALICE + ">")
        .contains("seed 7");
    SlackFile file = image.files().get(0);
    JobStore.Job job = jobs.find(jobId).orElseThrow();
    assertThat(job.request().prompt()).isEqualTo("a red fox & a hen");
    assertThat(file.bytes()).isEqualTo(images.get(job.imageHash()).orElseThrow());
    assertThat(file.name()).isEqualTo("fluxbot-7." + job.imageType().extension());
    SlackCall progress = slack.calls("chat.postMessage").get(0);
    assertThat(progress.param("text")).contains("a red fox &amp; a hen");
    SlackCall deleted = slack.awaitCall("chat.delete", SlackCall::ok);
    assertThat(slack.messages())
        .as("the progress message is gone; the image's message stays")
        .containsExactly(image);
    assertThat(slack.calls("chat.postMessage"))
        .as("no message besides the progress one")
        .hasSize(1);
    List<String> order = slack.calls().stream().map(SlackCall::method).toList();
    assertThat(order)
        .containsSubsequence(
            "chat.postMessage",
            "files.getUploadURLExternal",
            SlackCall.UPLOAD,
            "files.completeUploadExternal",
            "chat.delete");
    assertThat(deleted.param("ts")).isNotEqualTo(image.ts());
    assertThat(slack.calls())
        .allSatisfy(c -> assertThat(c.params().toString()).doesNotContain(slack.botToken()));
    assertThat(bfl.submits()).hasSize(1);
  }

  @Test
  void theMessageShortcutSendsBothImagesToBflInOrder() throws Exception {
    startBot();
    byte[] red = TestImages.solidPng(64, 48, Color.RED);
    byte[] blue = TestImages.solidPng(64, 48, Color.BLUE);
    SlackFile a = slack.addUserFile(FakeSlack.BOB, red, "red.png");
    SlackFile b = slack.addUserFile(FakeSlack.BOB, blue, "blue.png");
    SlackMessage shared =
        slack.postAsUser(FakeSlack.BOB, FakeSlack.CHANNEL, null, "two swatches", List.of(a, b));

    slack.awaitAck(slack.messageShortcut(FakeSlack.ALICE, shared, SlackBot.SHORTCUT));
    SlackView form = slack.awaitView(v -> v.callbackId().equals(SlackBot.MESSAGE_VIEW));
    assertThat(form.privateMetadata()).doesNotContain("files-pri").doesNotContain(slack.baseUrl());
    slack.awaitAck(
        slack.submitView(FakeSlack.ALICE, form, Map.of("prompt", "a flag in these two colours")));

    buttonsOf(slack, 0);
    JsonNode submit = bfl.submits().get(0).body();
    assertThat(submit.path("input_image").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(red));
    assertThat(submit.path("input_image_2").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(blue));
    assertThat(submit.path("prompt").asText()).isEqualTo("a flag in these two colours");
    assertThat(submit.toString()).doesNotContain("files-pri");
    assertThat(slack.calls(SlackCall.DOWNLOAD))
        .hasSize(2)
        .allSatisfy(c -> assertThat(c.authorized()).isTrue());
  }

  @Test
  void aButtonWorksAfterARestart() throws Exception {
    startBot();
    slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a lighthouse --seed 11");
    SlackMessage buttons = buttonsOf(slack, 0);
    String parent = jobIdOf(buttons);

    closeBot();
    slack.awaitSocketConnections(0);
    startBot();
    SlackEnvelope click = slack.clickButton(FakeSlack.BOB, buttons, "fx:reroll:" + parent);

    slack.awaitAck(click);
    SlackMessage second = buttonsOf(slack, 1);
    String child = jobIdOf(second);
    JobStore.Job rerolled = jobs.find(child).orElseThrow();
    assertThat(rerolled.state()).isEqualTo(JobStore.State.SUCCEEDED);
    assertThat(rerolled.request().prompt()).isEqualTo("a lighthouse");
    assertThat(rerolled.request().seed()).isNotEqualTo(11);
    assertThat(rerolled.requester().userId()).as("the presser's job").isEqualTo(FakeSlack.BOB);
    assertThat(imageMessages()).hasSize(2);
    assertThat(bfl.submits()).hasSize(2);
  }

  @Test
  void varyOpensAFormWithThePromptAndRunsTheEditedOne() throws Exception {
    startBot();
    slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a castle --seed 5");
    SlackMessage buttons = buttonsOf(slack, 0);
    String parent = jobIdOf(buttons);

    slack.awaitAck(slack.clickButton(FakeSlack.ALICE, buttons, "fx:vary:" + parent));
    SlackView form = slack.awaitView(v -> v.callbackId().equals(SlackBot.FOLLOW_UP_VIEW));
    assertThat(form.initialValue("prompt")).isEqualTo("a castle");
    slack.awaitAck(slack.submitView(FakeSlack.ALICE, form, Map.of("prompt", "a castle at night")));

    JobStore.Job varied = jobs.find(jobIdOf(buttonsOf(slack, 1))).orElseThrow();
    assertThat(varied.request().prompt()).isEqualTo("a castle at night");
    assertThat(varied.request().seed()).isEqualTo(5);
  }

  @Test
  void useAsReferenceSendsTheImageBackAsTheFirstReference() throws Exception {
    startBot();
    slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a teapot --seed 9");
    SlackMessage buttons = buttonsOf(slack, 0);
    String parent = jobIdOf(buttons);
    byte[] parentImage = images.get(jobs.find(parent).orElseThrow().imageHash()).orElseThrow();

    slack.awaitAck(slack.clickButton(FakeSlack.ALICE, buttons, "fx:ref:" + parent));
    SlackView form = slack.awaitView(v -> v.callbackId().equals(SlackBot.FOLLOW_UP_VIEW));
    assertThat(form.view().path("title").path("text").asText()).isEqualTo("Use as reference");
    slack.awaitAck(
        slack.submitView(FakeSlack.ALICE, form, Map.of("prompt", "the teapot in a garden")));

    buttonsOf(slack, 1);
    JsonNode submit = bfl.submits().get(1).body();
    assertThat(submit.path("prompt").asText()).isEqualTo("the teapot in a garden");
    assertThat(Base64.getDecoder().decode(submit.path("input_image").asText()))
        .isEqualTo(parentImage);
  }

  @Test
  void anAdminsDefaultModelAndSafetyCapApplyToTheWorkspace() throws Exception {
    startBot(SlackBot.Mode.SOCKET, Set.of());
    slack.slashCommand(FakeSlack.OWNER, FakeSlack.CHANNEL, "/imagine-admin", "default-model pro");
    assertThat(slack.awaitEphemeral(m -> m.visibleTo().equals(FakeSlack.OWNER)).text())
        .isEqualTo("The default model in this workspace is now *pro*.");
    slack.slashCommand(FakeSlack.OWNER, FakeSlack.CHANNEL, "/imagine-admin", "max-safety 1");
    slack.awaitEphemeral(
        m -> m.visibleTo().equals(FakeSlack.OWNER) && m.text().contains("--safety"));

    String refusal =
        slack
            .awaitAck(
                slack.slashCommand(
                    FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a lamp --safety 4"))
            .path("text")
            .asText();
    slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a lamp");
    buttonsOf(slack, 0);

    assertThat(refusal).startsWith("⚠️").contains("safety").contains("4");
    assertThat(bfl.submits())
        .singleElement()
        .satisfies(s -> assertThat(s.endpoint()).isEqualTo("flux-2-pro"));
  }

  @Test
  void closingDisconnectsEvenWhenSlackDoesNotAnswerPings() throws Exception {
    startBot();
    slack.answerSocketPings(
        false); // Bolt's own close disconnects only after a pong: it left this connection open

    closeBot();

    slack.awaitSocketConnections(0);
    Await.until(
        "Bolt's Socket Mode threads (session monitor, message processors) stop",
        WAIT,
        () ->
            Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().contains(SocketModeClient.EXECUTOR_GROUP_NAME_PREFIX)));
  }

  @Test
  void anImageForAChannelTheBotIsNotInIsKeptAndFollowsOnceItIsInvited() throws Exception {
    startBot(SlackBot.Mode.SOCKET, Set.of(), List.of());
    slack.setBotInChannel(FakeSlack.CHANNEL, false);

    SlackEnvelope imagine =
        slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a shy badger");

    JsonNode told =
        slack.awaitResponsePost(
            imagine, p -> p.path("text").asText().contains("not in this channel"));
    assertThat(told.path("response_type").asText()).isEqualTo("ephemeral");
    assertThat(told.path("text").asText())
        .isEqualTo(
            "⚠️ fluxbot is not in this channel, so it cannot post your image. "
                + "Invite it (`/invite @fluxbot`); the image is kept and follows on the next try.");
    // the core records the failed delivery on the job's thread
    Await.until("the job is kept undelivered", WAIT, () -> !jobs.undelivered(20).isEmpty());
    assertThat(imageMessages()).isEmpty();

    slack.setBotInChannel(FakeSlack.CHANNEL, true);
    closeBot();
    slack.awaitSocketConnections(0);
    startBot();

    buttonsOf(slack, 0);
    assertThat(imageMessages()).hasSize(1);
    assertThat(jobs.undelivered(20)).isEmpty();
    assertThat(bfl.submits()).as("made once, delivered later").hasSize(1);
  }

  @Test
  void aBannedUserIsRefusedUntilUnbannedAndAdminsSeeTheirQuota() throws Exception {
    startBot(SlackBot.Mode.SOCKET, Set.of());
    slack.slashCommand(
        FakeSlack.ADMIN,
        FakeSlack.CHANNEL,
        "/imagine-admin",
        "quota ban <@U0BOB|bob> spam &amp; noise");
    assertThat(slack.awaitEphemeral(m -> m.visibleTo().equals(FakeSlack.ADMIN)).text())
        .isEqualTo("Banned <@U0BOB> from making images in this workspace (spam &amp; noise).");

    slack.slashCommand(FakeSlack.BOB, FakeSlack.CHANNEL, "/imagine", "a boat");
    SlackMessage refusal = slack.awaitEphemeral(m -> m.visibleTo().equals(FakeSlack.BOB));
    slack.slashCommand(
        FakeSlack.ADMIN, FakeSlack.CHANNEL, "/imagine-admin", "quota unban <@U0BOB|bob>");
    slack.awaitEphemeral(m -> m.text().equals("Unbanned <@U0BOB> in this workspace."));
    slack.slashCommand(
        FakeSlack.ADMIN, FakeSlack.CHANNEL, "/imagine-admin", "quota grant <@U0BOB|bob> 2.5");
    SlackMessage granted = slack.awaitEphemeral(m -> m.text().startsWith("Granted"));

    assertThat(refusal.text()).startsWith("⚠️").containsIgnoringCase("banned");
    assertThat(granted.text())
        .startsWith(
            "Granted 2.5 credits to <@U0BOB>. <@U0BOB> has 52.5 of 52.5 credits left today "
                + "(spent 0); limit from ");
    assertThat(bfl.submits()).isEmpty();
  }

  @Test
  void httpModeRefusesUnsignedAndWronglySignedRequestsAndServesSignedOnes() throws Exception {
    startBot(SlackBot.Mode.HTTP, Set.of());
    URI url = bot.requestUrl().orElseThrow();

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
    assertThat(signed.status()).isEqualTo(200);
    assertThat(signed.body()).contains("Queued #1: signed fox");
    buttonsOf(slack, 0);
    assertThat(bfl.submits())
        .singleElement()
        .satisfies(s -> assertThat(s.body().path("prompt").asText()).isEqualTo("signed fox"));
    assertThat(slack.socketConnections()).isZero();
  }

  @Test
  void aNonAdminIsRefusedAndAWorkspaceAdminIsServed() throws Exception {
    startBot();

    slack.slashCommand(
        FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine-admin", "quota set 0 day <@U0BOB|bob>");
    SlackMessage refused = slack.awaitEphemeral(m -> m.visibleTo().equals(FakeSlack.ALICE));
    slack.slashCommand(
        FakeSlack.ADMIN, FakeSlack.CHANNEL, "/imagine-admin", "quota set 3 week <@U0BOB|bob>");
    SlackMessage served = slack.awaitEphemeral(m -> m.visibleTo().equals(FakeSlack.ADMIN));

    assertThat(refused.text())
        .isEqualTo(
            "⛔ /imagine-admin is for workspace admins and owners and the bot's admins; "
                + "you are none of these.");
    assertThat(served.text()).isEqualTo("Set <@U0BOB> in this workspace to 3 credits per week.");
    assertThat(slack.calls("users.info"))
        .extracting(c -> c.param("user"))
        .containsExactly(FakeSlack.ALICE, FakeSlack.ADMIN);
  }

  @Test
  void aConfiguredAdminNeedsNoWorkspaceRoleAndMistakesSayTheFieldAndTheValue() throws Exception {
    startBot(SlackBot.Mode.SOCKET, Set.of(FakeSlack.BOB));

    slack.slashCommand(FakeSlack.BOB, FakeSlack.CHANNEL, "/imagine-admin", "max-safety 9");
    SlackMessage mistake = slack.awaitEphemeral(m -> m.visibleTo().equals(FakeSlack.BOB));

    assertThat(mistake.text())
        .isEqualTo(
            "⚠️ max-safety: must be a whole number from 0 (strict) to 5; got \"9\". "
                + "Example: `/imagine-admin max-safety 2`.");
    assertThat(slack.calls("users.info")).isEmpty();
  }

  @Test
  void overQuotaIsRefusedOnlyToTheUserWithTheResetTime() throws Exception {
    startBot(SlackBot.Mode.SOCKET, Set.of(FakeSlack.ADMIN));
    slack.slashCommand(
        FakeSlack.ADMIN, FakeSlack.CHANNEL, "/imagine-admin", "quota set 0 day <@U0ALICE>");
    slack.awaitEphemeral(m -> m.visibleTo().equals(FakeSlack.ADMIN));

    SlackEnvelope imagine =
        slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a fox");
    slack.awaitAck(imagine);
    SlackMessage refusal = slack.awaitEphemeral(m -> m.visibleTo().equals(FakeSlack.ALICE));

    assertThat(refusal.text())
        .startsWith("⚠️ You have 0 of 0 credits left today; this image needs")
        .contains("Resets at 00:00 UTC (in ");
    assertThat(bfl.submits()).isEmpty();
    assertThat(imageMessages()).isEmpty();
    slack.awaitAck(slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine-quota", ""));
    assertThat(
            slack
                .awaitAck(
                    slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine-quota", ""))
                .path("text")
                .asText())
        .startsWith("You have 0 of 0 credits left today (spent 0). Resets <!date^");
  }

  @Test
  void rateLimitsAreWaitedOutAsSlackAsksAndTheImageArrivesOnce() throws Exception {
    startBot();
    slack.rateLimitNext("files.getUploadURLExternal", 2, 7);
    slack.rateLimitNext("files.completeUploadExternal", 1, 3);

    slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a patient heron");

    buttonsOf(slack, 0);
    assertThat(imageMessages()).hasSize(1);
    assertThat(slack.calls("files.getUploadURLExternal"))
        .extracting(SlackCall::status)
        .contains(429, 429, 200);
    assertThat(slackWaits)
        .contains(Duration.ofSeconds(7), Duration.ofSeconds(7), Duration.ofSeconds(3));
    assertThat(bfl.submits()).hasSize(1);
  }

  @Test
  void aMentionWithAFileAndAPromptUsesTheFileAsReference() throws Exception {
    startBot();
    byte[] green = TestImages.solidPng(64, 48, Color.GREEN);
    SlackFile f = slack.addUserFile(FakeSlack.ALICE, green, "green.png");
    SlackMessage mention =
        slack.postAsUser(
            FakeSlack.ALICE,
            FakeSlack.CHANNEL,
            null,
            "<@" + FakeSlack.BOT_USER_ID + "> a frog this colour",
            List.of(f));

    slack.awaitAck(slack.appMention(mention));

    buttonsOf(slack, 0);
    JsonNode submit = bfl.submits().get(0).body();
    assertThat(submit.path("prompt").asText()).isEqualTo("a frog this colour");
    assertThat(submit.path("input_image").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(green));
  }

  @Test
  void aReplyInAThreadStaysInTheThread() throws Exception {
    startBot();
    SlackMessage top =
        slack.postAsUser(FakeSlack.ALICE, FakeSlack.CHANNEL, null, "ideas", List.of());
    SlackMessage mention =
        slack.postAsUser(
            FakeSlack.ALICE,
            FakeSlack.CHANNEL,
            top.ts(),
            "<@" + FakeSlack.BOT_USER_ID + "> a kite",
            List.of());

    slack.awaitAck(slack.appMention(mention));

    SlackMessage buttons = buttonsOf(slack, 0);
    assertThat(buttons.threadTs()).isEqualTo(top.ts());
    assertThat(imageMessages())
        .singleElement()
        .satisfies(m -> assertThat(m.threadTs()).isEqualTo(top.ts()));
    assertThat(slack.calls("files.completeUploadExternal").get(0).param("thread_ts"))
        .isEqualTo(top.ts());
  }

  /** A bot on a core with no backend: for starts that must fail before any job. */
  private SlackBot botWith(SlackBot.Config config) {
    return new SlackBot(
        config,
        cores.get().chatServices(SlackBot.DELIVERIES_KEPT, recordingSleeper),
        new OkHttpClient());
  }

  @Test
  void aRefusedBotTokenFailsTheStartWithAClearMessageThatDoesNotEchoIt() {
    String wrong = "xoxb-0000-not-this-workspaces-token";
    SlackBot refused =
        botWith(
            new SlackBot.Config(
                SlackBot.Mode.SOCKET,
                Secret.of(wrong),
                Secret.of(slack.appToken()),
                null,
                slack.apiUrl(),
                null,
                Set.of()));

    assertThatThrownBy(refused::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "Slack refused the bot token (FLUXBOT_SLACK_BOT_TOKEN): Slack answered auth.test with invalid_auth. "
                + "Copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions.")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(wrong));
    refused.close();
    assertThat(slack.socketConnections()).isZero();
  }

  @Test
  void aSlackThatCannotBeReachedIsNamedAsSuchNotAsARefusedToken() throws Exception {
    int port;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort(); // closed again: nothing listens there
    }
    SlackBot unreachable =
        botWith(
            new SlackBot.Config(
                SlackBot.Mode.SOCKET,
                Secret.of(slack.botToken()),
                Secret.of(slack.appToken()),
                null,
                "http://127.0.0.1:" + port + "/api/",
                null,
                Set.of()));

    assertThatThrownBy(unreachable::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "Slack could not be reached for auth.test (connection refused). Check this machine's"
                + " network and DNS (127.0.0.1 (slack.api_base_url) must be reachable), then run"
                + " again.");
    unreachable.close();
  }

  @Test
  void onlyAnAnswerThatRefusesTheTokenIsCalledARefusedToken() {
    assertThat(
            SlackConnection.whyNotOpen(
                new SlackApi.SlackCallException(
                    "Slack answered auth.test with HTTP 503", null, null),
                null))
        .startsWith("Slack answered auth.test with HTTP 503: Slack did not take the bot in, but")
        .doesNotContain("refused");
    assertThat(
            SlackConnection.whyNotOpen(
                new SlackApi.SlackCallException(
                    "Slack answered auth.test with HTTP 429", SlackApi.RATE_LIMITED, null),
                null))
        .doesNotContain("refused");
    assertThat(
            SlackConnection.whyNotOpen(
                new SlackApi.SlackCallException(
                    "Slack answered auth.test with token_revoked", "token_revoked", null),
                null))
        .startsWith("Slack refused the bot token (FLUXBOT_SLACK_BOT_TOKEN)");
    assertThat(
            SlackConnection.whyNotOpen(
                new SlackApi.SlackCallException(
                    "could not reach Slack", null, new java.net.UnknownHostException("slack.com")),
                null))
        .isEqualTo(
            "Slack could not be reached for auth.test (unknown host slack.com (DNS)). Check this"
                + " machine's network and DNS (slack.com must be reachable), then run again.");
  }

  @Test
  void aRefusedAppTokenFailsTheStartWithAClearMessageThatDoesNotEchoIt() {
    String wrong = "xapp-1-A0OTHER-0000-not-this-apps-token";
    SlackBot refused =
        botWith(
            new SlackBot.Config(
                SlackBot.Mode.SOCKET,
                Secret.of(slack.botToken()),
                Secret.of(wrong),
                null,
                slack.apiUrl(),
                null,
                Set.of()));

    assertThatThrownBy(refused::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(
            "Slack refused Socket Mode with the app token (FLUXBOT_SLACK_APP_TOKEN): ")
        .hasMessageContaining("invalid_auth")
        .hasMessageEndingWith(
            ". Make an app-level token with connections:write under Basic Information and turn "
                + "Socket Mode on.")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(wrong));
    refused.close();
    assertThat(slack.calls("apps.connections.open"))
        .extracting(SlackCall::error)
        .containsOnly("invalid_auth");
  }

  @Test
  void noTokenOrSecretReachesALogLineOrAMessage() throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Level before = root.getLevel();
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    root.addAppender(lines);
    root.setLevel(Level.DEBUG);
    try {
      startBot();
      slack.rateLimitNext("chat.update", 1, 2);
      slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a quiet owl");
      SlackFile f =
          slack.addUserFile(FakeSlack.BOB, TestImages.solidPng(64, 48, Color.GRAY), "grey.png");
      SlackMessage shared =
          slack.postAsUser(FakeSlack.BOB, FakeSlack.CHANNEL, null, "grey", List.of(f));
      slack.awaitAck(slack.messageShortcut(FakeSlack.ALICE, shared, SlackBot.SHORTCUT));
      slack.awaitAck(
          slack.submitView(
              FakeSlack.ALICE,
              slack.awaitView(v -> v.callbackId().equals(SlackBot.MESSAGE_VIEW)),
              Map.of("prompt", "an owl this grey")));
      buttonsOf(slack, 1);
    } finally {
      root.detachAppender(lines);
      root.setLevel(before);
    }

    assertThat(lines.list).isNotEmpty();
    List<String> logged =
        lines.list.stream()
            .map(
                e ->
                    e.getFormattedMessage()
                        + (e.getThrowableProxy() == null
                            ? ""
                            : " " + e.getThrowableProxy().getMessage()))
            .toList();
    for (String secret : List.of(slack.botToken(), slack.appToken(), slack.signingSecret())) {
      assertThat(logged).noneMatch(line -> line.contains(secret));
      assertThat(slack.messages()).noneMatch(m -> m.allText().contains(secret));
      assertThat(slack.ephemerals()).noneMatch(m -> m.allText().contains(secret));
    }
    assertThat(bfl.submits().get(1).body().toString()).doesNotContain(slack.baseUrl());
  }

  private List<String> submittedPrompts() {
    return bfl.submits().stream().map(x -> x.body().path("prompt").asText()).toList();
  }

  @Test
  void aMentionThatSlackResendsAfterAReconnectRunsOnce() throws Exception {
    startBot();
    SlackMessage mention =
        slack.postAsUser(
            FakeSlack.ALICE,
            FakeSlack.CHANNEL,
            null,
            "<@" + FakeSlack.BOT_USER_ID + "> a wading heron --seed 3",
            List.of());
    SlackEnvelope first = slack.appMention(mention);
    slack.awaitAck(first);
    slack.refreshSocket(); // Slack moves the app to a new connection now and then

    SlackEnvelope resent =
        slack.resend(first); // the first ack was lost: the same event_id again, retry_attempt 1
    slack.awaitAck(resent);
    buttonsOf(slack, 0);
    slack.awaitAck(
        slack.slashCommand(FakeSlack.BOB, FakeSlack.CHANNEL, "/imagine", "a later lark --seed 4"));
    Await.until("the later command's image", WAIT, () -> imageMessages().size() >= 2);

    assertThat(submittedPrompts()).containsExactly("a wading heron", "a later lark");
    assertThat(imageMessages()).hasSize(2);
  }

  @Test
  void aMentionThatSlackResendsAfterTheBotRestartedRunsOnce() throws Exception {
    startBot();
    SlackMessage mention =
        slack.postAsUser(
            FakeSlack.ALICE,
            FakeSlack.CHANNEL,
            null,
            "<@" + FakeSlack.BOT_USER_ID + "> a sleeping otter --seed 5",
            List.of());
    SlackEnvelope first = slack.appMention(mention);
    slack.awaitAck(first);
    buttonsOf(slack, 0);
    closeBot(); // a deploy between Slack's first delivery and its retry a minute later
    startBot();

    SlackEnvelope resent = slack.resend(first);
    slack.awaitAck(resent);
    slack.awaitAck(
        slack.slashCommand(FakeSlack.BOB, FakeSlack.CHANNEL, "/imagine", "a later lark --seed 4"));
    Await.until("the later command's image", WAIT, () -> imageMessages().size() >= 2);
    Await.during(
        "the resent mention made no second job", // a second run would start within ms
        Duration.ofMillis(1500),
        () -> jobs.list("slack", FakeSlack.ALICE, 10),
        list -> list.size() == 1);

    assertThat(submittedPrompts()).containsExactly("a sleeping otter", "a later lark");
    assertThat(imageMessages()).hasSize(2);
  }

  @Test
  void aMentionResentOverHttpRunsOnce() throws Exception {
    startBot(SlackBot.Mode.HTTP, Set.of());
    URI url = bot.requestUrl().orElseThrow();
    SlackMessage mention =
        slack.postAsUser(
            FakeSlack.ALICE,
            FakeSlack.CHANNEL,
            null,
            "<@" + FakeSlack.BOT_USER_ID + "> a quiet vole --seed 8",
            List.of());
    SlackEnvelope event = slack.appMentionEnvelope(mention);

    HttpDelivery first = slack.sendOverHttp(url, event, Signing.SIGNED);
    HttpDelivery again = slack.sendOverHttp(url, slack.resentEnvelope(event), Signing.SIGNED);
    buttonsOf(slack, 0);
    slack.sendOverHttp(
        url,
        slack.slashCommandEnvelope(FakeSlack.BOB, FakeSlack.CHANNEL, "/imagine", "a later lark"),
        Signing.SIGNED);
    Await.until("the later command's image", WAIT, () -> imageMessages().size() >= 2);

    assertThat(first.status()).isEqualTo(200);
    assertThat(first.timedOut()).isFalse();
    assertThat(again.status())
        .as("a resend is acknowledged, so Slack stops sending it")
        .isEqualTo(200);
    assertThat(again.timedOut()).isFalse();
    assertThat(submittedPrompts()).containsExactly("a quiet vole", "a later lark");
  }

  @Test
  void aButtonPressDeliveredTwiceRunsOnce() throws Exception {
    startBot();
    slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a red kite --seed 12");
    SlackMessage buttons = buttonsOf(slack, 0);
    SlackEnvelope press =
        slack.clickButton(FakeSlack.BOB, buttons, "fx:reroll:" + jobIdOf(buttons));
    slack.awaitAck(press);

    slack.awaitAck(slack.resend(press)); // the same press (same trigger id) once more
    buttonsOf(slack, 1);
    slack.awaitAck(
        slack.slashCommand(FakeSlack.BOB, FakeSlack.CHANNEL, "/imagine", "a later lark"));
    Await.until("the later command's image", WAIT, () -> imageMessages().size() >= 3);

    assertThat(submittedPrompts()).containsExactly("a red kite", "a red kite", "a later lark");
  }

  @Test
  void aRateLimitedFormIsNotWaitedForTheAckComesAtOnceAndTheUserIsToldToPressAgain()
      throws Exception {
    slackSleeper = Sleeper.SYSTEM; // Slack's Retry-After really waited out, as in production
    startBot();
    slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a castle --seed 5");
    SlackMessage buttons = buttonsOf(slack, 0);
    String vary = "fx:vary:" + jobIdOf(buttons);
    slack.rateLimitNext("views.open", 1, 4);

    slack.awaitAck(slack.clickButton(FakeSlack.ALICE, buttons, vary)); // within Slack's 3 s

    SlackMessage told = slack.awaitEphemeral(m -> m.visibleTo().equals(FakeSlack.ALICE));
    assertThat(told.text())
        .startsWith("⏳")
        .contains("Vary")
        .contains("press")
        .contains("again")
        .doesNotContain("trigger");
    assertThat(slack.calls("views.open")).as("a trigger id is not worth waiting for").hasSize(1);
    slack.awaitAck(slack.clickButton(FakeSlack.ALICE, buttons, vary));
    assertThat(
            slack
                .awaitView(v -> v.callbackId().equals(SlackBot.FOLLOW_UP_VIEW))
                .initialValue("prompt"))
        .isEqualTo("a castle");
  }

  @Test
  void aMistakeInTheCommandIsTheAcksOwnEphemeralAnswerAndNothingIsQueued() throws Exception {
    startBot();

    SlackEnvelope imagine =
        slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a fox --seed -1");

    JsonNode ack = slack.awaitAck(imagine);
    assertThat(ack.path("response_type").asText()).isEqualTo("ephemeral");
    assertThat(ack.path("text").asText())
        .startsWith("⚠️")
        .contains("seed")
        .contains("-1")
        .doesNotContain("Queued");
    slack.awaitAck(
        slack.slashCommand(FakeSlack.BOB, FakeSlack.CHANNEL, "/imagine", "a later lark"));
    buttonsOf(slack, 0);
    assertThat(slack.responsePosts(imagine)).isEmpty();
    assertThat(slack.ephemerals()).isEmpty();
    assertThat(submittedPrompts()).containsExactly("a later lark");
  }

  @Test
  void parallelJobsLeaveOneMessageEachTheImageWithCaptionAndButtonsAndNoJobId() throws Exception {
    startBot();

    slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "an otter");
    slack.slashCommand(FakeSlack.BOB, FakeSlack.CHANNEL, "/imagine", "a stoat");
    slack.slashCommand(FakeSlack.OWNER, FakeSlack.CHANNEL, "/imagine", "a mink");

    Await.until("three images", WAIT, () -> imageMessages().size() == 3);
    Await.until("the progress messages are gone", WAIT, () -> slack.messages().size() == 3);
    assertThat(slack.messages())
        .allSatisfy(
            m -> {
              assertThat(m.files()).hasSize(1);
              assertThat(m.buttons())
                  .extracting(b -> b.path("text").path("text").asText())
                  .containsExactly("Reroll", "Vary", "2K", "Use as reference");
              assertThat(m.allText())
                  .containsPattern("\\*(an otter|a stoat|a mink)\\* — <@U0[A-Z]+>")
                  .contains("seed");
            });
    List<String> jobIds = slack.messages().stream().map(SlackBotEndToEndTest::jobIdOf).toList();
    assertThat(slack.calls("chat.delete")).hasSize(3).allSatisfy(c -> assertThat(c.ok()).isTrue());
    for (String id : jobIds) {
      assertThat(slack.messages()).noneMatch(m -> m.allText().contains(id));
      assertThat(slack.ephemerals()).noneMatch(m -> m.allText().contains(id));
      assertThat(slack.calls())
          .filteredOn(
              c -> c.method().startsWith("chat.") || c.method().equals(SlackCall.RESPONSE_URL))
          .noneMatch(c -> String.valueOf(c.param("text")).contains(id));
    }
  }

  @Test
  void anAdminsQuotaShowSaysWhatImagineQuotaSaysCreditsHeldByAJobInProgressIncluded()
      throws Exception {
    startBot(SlackBot.Mode.SOCKET, Set.of(FakeSlack.ADMIN));
    bfl.enqueue(Scenario.neverFinishes());
    slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine", "a slow snail");
    Await.until("the job is at BFL", WAIT, () -> bfl.submits().size() == 1);

    String own =
        slack
            .awaitAck(slack.slashCommand(FakeSlack.ALICE, FakeSlack.CHANNEL, "/imagine-quota", ""))
            .path("text")
            .asText();
    slack.slashCommand(
        FakeSlack.ADMIN, FakeSlack.CHANNEL, "/imagine-admin", "quota show <@U0ALICE|alice>");
    String shown = slack.awaitEphemeral(m -> m.visibleTo().equals(FakeSlack.ADMIN)).text();

    assertThat(own).startsWith("You have ").contains("held by images in progress");
    String summary = own.substring("You have ".length(), own.indexOf(". Resets"));
    assertThat(shown).startsWith("<@" + FakeSlack.ALICE + "> has " + summary);
  }
}
