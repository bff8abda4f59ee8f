package dev.fluxbot.discord;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.ProgressListener;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.image.AddressPolicy;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.DiscordAttachment;
import dev.fluxbot.testkit.DiscordCallback;
import dev.fluxbot.testkit.DiscordContext;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordMention;
import dev.fluxbot.testkit.DiscordMessage;
import dev.fluxbot.testkit.DiscordRequest;
import dev.fluxbot.testkit.FakeDiscord;
import dev.fluxbot.testkit.MutableClock;
import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.junit.FakeDiscordExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The adapter in-process, on the real JDA logged into the fake Discord, over the real core (SQLite,
 * the disk image store, quotas). The backend is a gate the test opens, so each test decides what
 * happens before the image is ready: the interaction token ages (on a clock the bot and the fake
 * share), or Discord's answers to the upload fail.
 */
class DiscordBotDeliveryTest {
  /** The fakes serve their files on loopback, which a real bot refuses to fetch references from. */
  private static final AddressPolicy FAKES_ON_LOOPBACK =
      AddressPolicy.permitting("test", List.of("127.0.0.0/8"));

  private static final String EDIT_ORIGINAL = "PATCH /webhooks/{app}/{token}/messages/@original";
  private static final Duration WAIT = Duration.ofSeconds(30);

  /**
   * Discord's time, for the fake and for the bot's token-life decisions; starts now because JDA
   * reads ids on the real clock.
   */
  private final MutableClock clock = new MutableClock(Instant.now());

  @RegisterExtension
  final FakeDiscordExtension discordFake =
      new FakeDiscordExtension(b -> b.clock(clock).awaitTimeout(WAIT));

  private final FakeDiscord discord = discordFake.get();
  private final DiscordContext alice = discord.inGuild(FakeDiscord.DEFAULT_USER_ID);
  private final GatedBackend backend = new GatedBackend();

  /** The core on the system clock (the bot's and the fake's is {@link #clock}). */
  @Order(Integer.MAX_VALUE) // registered last, so it stops before the fake Discord closes
  @RegisterExtension
  final FluxbotCoreExtension cores =
      new FluxbotCoreExtension(
          b ->
              b.backends(backend)
                  .referenceAddresses(FAKES_ON_LOOPBACK)
                  .imagineSettings(
                      new ImagineService.Settings(
                          1000,
                          0,
                          List.of(
                              Duration.ofMillis(100),
                              Duration.ofMillis(200),
                              Duration.ofMillis(400))))
                  .random(new Random(1)));

  private JobStore jobs;
  private ImagineService imagine;
  private DiscordBot.Config config;
  private ChatServices services;
  private OriginalLinks links;
  private DiscordBot bot;

  @AfterEach
  void stop() throws Exception {
    if (bot != null) {
      bot.close();
    }
  }

  private void startBot(OriginalLinks links, boolean allowDms) throws InterruptedException {
    FluxbotCore core = cores.get();
    jobs = core.jobs();
    imagine = core.imagine();
    config =
        new DiscordBot.Config(
            Secret.of(discord.token()),
            discord.restBaseUrl(),
            discord.gatewayUrl(),
            Set.of(),
            allowDms);
    services = core.chatServices(Duration.ofHours(1), clock, Sleeper.SYSTEM);
    this.links = links;
    bot = new DiscordBot(config, services, links);
    bot.start();
  }

  /**
   * A new JDA session on the same store, as after {@code fluxbot run} restarted: nothing cached
   * from before.
   */
  private void restartBot() throws InterruptedException {
    bot.close();
    discord.awaitLiveGatewaySessions(0);
    bot = new DiscordBot(config, services, links);
    bot.start();
    DiscordBot restarted = bot;
    imagine.resumeUnfinished(j -> true, j -> restarted.replyFor(j).orElse(null));
  }

  /** The fake's upload limit can be set at any time; the interaction carries it. */
  private DiscordInteraction imagine(DiscordContext where, String prompt) {
    DiscordInteraction imagine = discord.slashCommand(where, "imagine", Map.of("prompt", prompt));
    assertThat(discord.awaitCallback(imagine.id()).type())
        .isEqualTo(DiscordCallback.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE);
    return imagine;
  }

  /**
   * Waits until the backend runs the job and Discord shows "Working on it": nothing else is in
   * flight.
   */
  private void awaitWorking(DiscordInteraction imagine) throws InterruptedException {
    assertThat(backend.started.tryAcquire(WAIT.toSeconds(), TimeUnit.SECONDS))
        .as("the backend was asked")
        .isTrue();
    discord.awaitOriginalEdit(imagine.token(), m -> m.content().startsWith("Working on it"));
  }

  private static List<JsonNode> buttons(DiscordMessage m) {
    List<JsonNode> out = new ArrayList<>();
    m.components().forEach(row -> row.path("components").forEach(out::add));
    return out;
  }

  private List<DiscordMessage> imagesSent() {
    return discord.messages().stream().filter(m -> !m.files().isEmpty()).toList();
  }

  private String quotaText(DiscordContext who) {
    DiscordInteraction quota = discord.slashCommand(who, "quota", Map.of());
    return discord.awaitCallback(quota.id()).data().path("content").asText();
  }

  /**
   * Waits (bounded) until the core has marked the image's job delivered, which it does once Discord
   * answered the upload; by then the fake has recorded every request of the delivery.
   */
  private void awaitDelivered(DiscordMessage image) {
    String jobId = jobIdOf(image);
    // the core marks it on its own thread, right after Discord's answer
    Await.until(
        "job " + jobId + " marked delivered",
        WAIT,
        () -> jobs.undelivered(20).stream().noneMatch(j -> j.id().equals(jobId)));
    assertThat(jobs.find(jobId).orElseThrow().state()).isEqualTo(JobStore.State.SUCCEEDED);
  }

  private String jobIdOf(DiscordMessage image) {
    return image.customIds().get(0).substring(image.customIds().get(0).lastIndexOf(':') + 1);
  }

  @Test
  void anImageOverTheUploadLimitGoesAsAPreviewThatFitsWithALinkButtonToTheOriginal()
      throws Exception {
    startBot(
        jobId ->
            Optional.of(
                URI.create("https://bot.example.com/originals/" + jobId + "?exp=1&sig=abc")),
        true);
    byte[] big = TestImages.noisePng(1024, 1024, 3);
    discord.setAttachmentSizeLimit(400_000);
    DiscordInteraction imagine = imagine(alice, "static --format png --seed 3");
    awaitWorking(imagine);
    backend.images.add(big);

    DiscordMessage image = discord.awaitOriginalEdit(imagine.token(), m -> !m.files().isEmpty());
    awaitDelivered(image);
    byte[] sent = image.files().get(0).bytes();
    assertThat(sent.length).isLessThanOrEqualTo(400_000);
    assertThat(image.files().get(0).filename()).isEqualTo("fluxbot-3.jpg");
    assertThat(ImageIO.read(new ByteArrayInputStream(sent)).getWidth()).isPositive();
    String jobId = jobIdOf(image);
    assertThat(image.content())
        .contains(
            "Preview: the original is "
                + dev.fluxbot.core.chat.ChatTexts.mb(big.length)
                + " (PNG), over this "
                + "channel's upload limit")
        .contains("The **Original** button downloads the full image.");
    List<JsonNode> buttons = buttons(image);
    assertThat(buttons).hasSize(5);
    assertThat(image.customIds()).hasSize(4);
    JsonNode link = buttons.get(4);
    assertThat(link.path("style").asInt()).as("a link button").isEqualTo(5);
    assertThat(link.path("label").asText()).isEqualTo("Original");
    assertThat(link.path("url").asText())
        .isEqualTo("https://bot.example.com/originals/" + jobId + "?exp=1&sig=abc");
    assertThat(jobs.find(jobId).orElseThrow().imageType()).isEqualTo(ImageType.PNG);
  }

  @Test
  void withoutLinksAPreviewSaysWhatTheUserCanDoForAFullImageThatFits() throws Exception {
    startBot(OriginalLinks.NONE, true);
    discord.setAttachmentSizeLimit(400_000);
    DiscordInteraction imagine = imagine(alice, "static --format png --seed 4");
    awaitWorking(imagine);
    backend.images.add(TestImages.noisePng(1024, 1024, 4));

    DiscordMessage image = discord.awaitOriginalEdit(imagine.token(), m -> !m.files().isEmpty());
    awaitDelivered(image);
    assertThat(image.content())
        .contains(
            "For the full image in a file that fits here, run /imagine again with the "
                + "same prompt and `--seed 4 --format jpeg`")
        .doesNotContain(jobIdOf(image))
        .doesNotContain("admin");
    assertThat(buttons(image)).hasSize(4);
  }

  @Test
  void anImageThatFitsHasNoLinkButtonEvenWhereLinksAreServed() throws Exception {
    startBot(jobId -> Optional.of(URI.create("https://bot.example.com/originals/" + jobId)), true);
    DiscordInteraction imagine = imagine(alice, "small --format png --seed 5");
    awaitWorking(imagine);
    byte[] small = TestImages.noisePng(64, 64, 5);
    backend.images.add(small);

    DiscordMessage image = discord.awaitOriginalEdit(imagine.token(), m -> !m.files().isEmpty());
    awaitDelivered(image);
    assertThat(image.files().get(0).bytes()).isEqualTo(small);
    assertThat(image.content()).doesNotContain("Preview");
    assertThat(buttons(image)).hasSize(4).noneMatch(b -> b.path("style").asInt() == 5);
  }

  @Test
  void pastTheTokensLifeTheImageGoesToTheChannelAsANewMessage() throws Exception {
    startBot(OriginalLinks.NONE, true);
    DiscordInteraction imagine = imagine(alice, "a slow fox --format png --seed 6");
    awaitWorking(imagine);
    clock.advance(
        Duration.ofMinutes(
            15)); // the job took a quarter of an hour: the token is dead on both sides
    byte[] png = TestImages.noisePng(64, 64, 6);
    backend.images.add(png);

    DiscordMessage image =
        discord.awaitChannelMessage(FakeDiscord.DEFAULT_CHANNEL_ID, m -> !m.files().isEmpty());
    awaitDelivered(image);
    assertThat(image.content())
        .contains("a slow fox")
        .contains("<@" + FakeDiscord.DEFAULT_USER_ID + ">")
        .contains("seed 6");
    assertThat(image.files().get(0).bytes()).isEqualTo(png);
    assertThat(image.customIds()).hasSize(4).allMatch(id -> id.startsWith("fx:"));
    JsonNode allowed = image.payload().path("allowed_mentions");
    assertThat(allowed.path("parse")).as("a new message pings its user only").isEmpty();
    assertThat(allowed.path("users"))
        .extracting(JsonNode::asText)
        .containsExactly(FakeDiscord.DEFAULT_USER_ID);
    assertThat(imagesSent()).containsExactly(image);
    assertThat(discord.requests(EDIT_ORIGINAL))
        .as("no edit through the dead token")
        .allMatch(r -> r.status() == 200)
        .noneMatch(DiscordRequest::isMultipart);
  }

  @Test
  void imagineInADmIsAnsweredInTheDm() throws Exception {
    startBot(OriginalLinks.NONE, true);
    DiscordContext dm = discord.inDm(FakeDiscord.DEFAULT_USER_ID);
    DiscordInteraction imagine = imagine(dm, "a fox in a letter --format png --seed 8");
    assertThat(imagine.guildId()).isNull();
    awaitWorking(imagine);
    byte[] png = TestImages.noisePng(64, 64, 8);
    backend.images.add(png);

    DiscordMessage image = discord.awaitOriginalEdit(imagine.token(), m -> !m.files().isEmpty());
    awaitDelivered(image);
    assertThat(image.channelId()).isEqualTo(discord.dmChannelId(FakeDiscord.DEFAULT_USER_ID));
    assertThat(image.content()).contains("a fox in a letter").contains("seed 8");
    assertThat(image.files().get(0).bytes()).isEqualTo(png);
    assertThat(image.customIds()).hasSize(4);
    JobStore.Job job = jobs.find(jobIdOf(image)).orElseThrow();
    assertThat(job.requester().scopeId()).as("a DM has no guild scope").isNull();
  }

  @Test
  void aDmPastTheTokensLifeGetsTheImageAsANewDmMessage() throws Exception {
    startBot(OriginalLinks.NONE, true);
    DiscordContext dm = discord.inDm(FakeDiscord.DEFAULT_USER_ID);
    DiscordInteraction imagine = imagine(dm, "a late letter --format png --seed 9");
    awaitWorking(imagine);
    clock.advance(Duration.ofMinutes(20));
    backend.images.add(TestImages.noisePng(64, 64, 9));

    String dmChannel = discord.dmChannelId(FakeDiscord.DEFAULT_USER_ID);
    DiscordMessage image = discord.awaitChannelMessage(dmChannel, m -> !m.files().isEmpty());
    awaitDelivered(image);
    assertThat(image.content()).contains("a late letter").contains("seed 9");
    assertThat(image.customIds()).hasSize(4);
  }

  @Test
  void aDmImageThatCouldNotBeSentIsSentAfterARestartThroughTheReopenedDm() throws Exception {
    startBot(OriginalLinks.NONE, true);
    DiscordContext dm = discord.inDm(FakeDiscord.DEFAULT_USER_ID);
    String dmChannel = discord.dmChannelId(FakeDiscord.DEFAULT_USER_ID);
    DiscordInteraction imagine = imagine(dm, "a letter after a restart --format png --seed 13");
    awaitWorking(imagine);
    clock.advance(Duration.ofMinutes(15));
    discord.failNext(
        "POST /channels/{channel}/messages",
        500,
        0,
        "500: Internal Server Error",
        4); // the try and 3 retries
    byte[] png = TestImages.noisePng(64, 64, 13);
    backend.images.add(png);
    JobStore.Job job = awaitUndeliverableJob();

    restartBot();

    DiscordMessage image = discord.awaitChannelMessage(dmChannel, m -> !m.files().isEmpty());
    awaitDelivered(image);
    assertThat(jobIdOf(image)).isEqualTo(job.id());
    assertThat(image.files().get(0).bytes()).isEqualTo(png);
    assertThat(discord.requests("POST /users/@me/channels"))
        .as("the new session reopened the DM through its user")
        .extracting(r -> r.json().path("recipient_id").asText())
        .containsExactly(FakeDiscord.DEFAULT_USER_ID);
    assertThat(discord.requests("POST /channels/{channel}/messages"))
        .extracting(DiscordRequest::status)
        .containsExactly(500, 500, 500, 500, 200);
    assertThat(backend.runs.get()).isEqualTo(1);
  }

  /** Waits (bounded) until the one job's delivery has failed on every retry of this run. */
  private JobStore.Job awaitUndeliverableJob() {
    Await.until(
        "4 failed deliveries", // the core retries on its own thread
        WAIT,
        () -> discord.requests("POST /channels/{channel}/messages").size() >= 4);
    List<JobStore.Job> undelivered = jobs.undelivered(20);
    assertThat(undelivered).hasSize(1);
    return undelivered.get(0);
  }

  @Test
  void withDmsOffADmIsRefusedEphemerallyAndNothingRuns() throws Exception {
    startBot(OriginalLinks.NONE, false);
    DiscordInteraction imagine =
        discord.slashCommand(
            discord.inDm(FakeDiscord.DEFAULT_USER_ID), "imagine", Map.of("prompt", "a fox"));

    DiscordCallback refusal = discord.awaitCallback(imagine.id());
    assertThat(refusal.isEphemeral()).isTrue();
    assertThat(refusal.data().path("content").asText())
        .isEqualTo("⚠️ This bot works in servers only; its admin turned DMs off.");
    assertThat(backend.runs.get()).isZero();
  }

  @Test
  void serverErrorsOnTheImageUploadAreRetriedUntilItArrivesOnceAndIsChargedOnce() throws Exception {
    startBot(OriginalLinks.NONE, true);
    DiscordInteraction imagine = imagine(alice, "a stubborn fox --format png --seed 10");
    awaitWorking(imagine);
    // A 500 JDA does not retry (the core's delivery retry does); 503s JDA retries on its own.
    discord.failNext(EDIT_ORIGINAL, 500, 0, "500: Internal Server Error");
    discord.failNext(EDIT_ORIGINAL, 503, 0, "503: Service Unavailable", 2);
    byte[] png = TestImages.noisePng(64, 64, 10);
    backend.images.add(png);

    DiscordMessage image = discord.awaitOriginalEdit(imagine.token(), m -> !m.files().isEmpty());
    awaitDelivered(image);
    assertThat(image.files().get(0).bytes()).isEqualTo(png);
    List<DiscordRequest> uploads =
        discord.requests(EDIT_ORIGINAL).stream().filter(DiscordRequest::isMultipart).toList();
    assertThat(uploads).extracting(DiscordRequest::status).containsExactly(500, 503, 503, 200);
    assertThat(imagesSent()).containsExactly(image);
    assertThat(backend.runs.get()).as("the image is made once").isEqualTo(1);
    assertThat(quotaText(alice)).contains("(spent 1).");
  }

  @Test
  void aRateLimitOnTheImageUploadIsWaitedOutAndTheImageArrivesOnce() throws Exception {
    startBot(OriginalLinks.NONE, true);
    DiscordInteraction imagine = imagine(alice, "a patient fox --format png --seed 11");
    awaitWorking(imagine);
    discord.rateLimitNext(EDIT_ORIGINAL, 1.0, 2);
    backend.images.add(TestImages.noisePng(64, 64, 11));

    DiscordMessage image = discord.awaitOriginalEdit(imagine.token(), m -> !m.files().isEmpty());
    awaitDelivered(image);
    assertThat(image.content()).contains("seed 11");
    List<DiscordRequest> uploads =
        discord.requests(EDIT_ORIGINAL).stream().filter(DiscordRequest::isMultipart).toList();
    assertThat(uploads).extracting(DiscordRequest::status).containsExactly(429, 429, 200);
    assertThat(imagesSent()).containsExactly(image);
    assertThat(backend.runs.get()).isEqualTo(1);
    assertThat(quotaText(alice)).contains("(spent 1).");
  }

  @Test
  void aServerErrorOnTheChannelMessagePastTheTokensLifeIsRetriedByTheCore() throws Exception {
    startBot(OriginalLinks.NONE, true);
    DiscordInteraction imagine = imagine(alice, "a very slow fox --format png --seed 12");
    awaitWorking(imagine);
    clock.advance(Duration.ofMinutes(16));
    discord.failNext("POST /channels/{channel}/messages", 500, 0, "500: Internal Server Error");
    backend.images.add(TestImages.noisePng(64, 64, 12));

    DiscordMessage image =
        discord.awaitChannelMessage(FakeDiscord.DEFAULT_CHANNEL_ID, m -> !m.files().isEmpty());
    awaitDelivered(image);
    assertThat(image.content()).contains("seed 12");
    assertThat(discord.requests("POST /channels/{channel}/messages"))
        .extracting(DiscordRequest::status)
        .containsExactly(500, 200);
    assertThat(imagesSent()).containsExactly(image);
  }

  @Test
  void
      anErrorBeforeTheJobStartsIsShownPrivatelyEvenWhenDiscordTakesTheDeleteOfTheThinkingMessageLate()
          throws Exception {
    startBot(OriginalLinks.NONE, true);
    discord.delayNext("DELETE /webhooks/{app}/{token}/messages/@original", Duration.ofMillis(500));
    DiscordInteraction imagine = imagine(alice, "a fox --ar 99:1");

    DiscordMessage error =
        discord.awaitFollowup(imagine.token(), m -> m.content().startsWith("⚠️"));
    discord.awaitRequest(
        "DELETE /webhooks/{app}/{token}/messages/@original",
        r -> r.path().contains(imagine.token()));
    assertThat(error.content()).contains("--ar").contains("99:1");
    assertThat(error.isEphemeral()).as("only its user sees the error").isTrue();
    assertThat(discord.message(error.messageId()))
        .as("the error is still there once the thinking message is gone")
        .hasValueSatisfying(m -> assertThat(m.path("content").asText()).isEqualTo(error.content()));
    assertThat(backend.runs.get()).isZero();
  }

  @Test
  void whenDiscordWillNotDeleteTheThinkingMessageTheErrorReplacesIt() throws Exception {
    startBot(OriginalLinks.NONE, true);
    discord.failNext(
        "DELETE /webhooks/{app}/{token}/messages/@original", 500, 0, "500: Internal Server Error");
    DiscordInteraction imagine = imagine(alice, "a fox --ar 99:1");

    DiscordMessage error =
        discord.awaitOriginalEdit(imagine.token(), m -> m.content().startsWith("⚠️"));
    assertThat(error.content()).contains("99:1");
    assertThat(discord.message(error.messageId())).as("public, but there").isPresent();
    assertThat(discord.messages()).noneMatch(m -> m.kind() == DiscordMessage.Kind.FOLLOWUP);
  }

  /** A user's message with a PNG, and the form "Imagine with this image" opened on it. */
  private String openImagineWithImageForm(byte[] png) {
    DiscordAttachment photo = discord.addAttachment(png, "cat.png", "image/png");
    DiscordMessage posted = discord.postMessageAsUser(alice, "my cat", photo);
    DiscordInteraction menu =
        discord.messageContextMenu(alice, DiscordBot.CONTEXT_MENU, posted.messageId());
    DiscordCallback form = discord.awaitCallback(menu.id());
    assertThat(form.type()).isEqualTo(DiscordCallback.MODAL);
    return form.data().path("custom_id").asText();
  }

  @Test
  void
      imagineWithThisImageUsesTheMessagesImageWhichDiscordShowsEmptyOverRestWithoutTheContentIntent()
          throws Exception {
    startBot(OriginalLinks.NONE, true);
    byte[] cat = TestImages.noisePng(96, 64, 20);
    String form = openImagineWithImageForm(cat);

    DiscordInteraction submit =
        discord.modalSubmit(alice, form, Map.of("prompt", "the cat as a painting --seed 20"));
    assertThat(discord.awaitCallback(submit.id()).type())
        .isEqualTo(DiscordCallback.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE);
    assertThat(backend.started.tryAcquire(WAIT.toSeconds(), TimeUnit.SECONDS))
        .as("the backend was asked")
        .isTrue();
    backend.images.add(TestImages.noisePng(64, 64, 20));

    DiscordMessage image = discord.awaitOriginalEdit(submit.token(), m -> !m.files().isEmpty());
    awaitDelivered(image);
    GenerationJob job = backend.jobs.get(0);
    assertThat(job.request().prompt()).isEqualTo("the cat as a painting");
    assertThat(job.references())
        .singleElement()
        .satisfies(r -> assertThat(r.bytes()).isEqualTo(cat));
  }

  @Test
  void aFormWhoseImagesAreNoLongerAtHandIsRefusedAndCostsNothing() throws Exception {
    startBot(OriginalLinks.NONE, true);
    String expired = openImagineWithImageForm(TestImages.noisePng(96, 64, 21));
    String beforeRestart = openImagineWithImageForm(TestImages.noisePng(96, 64, 22));
    clock.advance(Duration.ofMinutes(16)); // a form is good for 15 minutes
    DiscordInteraction late =
        discord.modalSubmit(alice, expired, Map.of("prompt", "the cat, later"));
    DiscordCallback lateAnswer = discord.awaitCallback(late.id());
    restartBot();
    DiscordInteraction afterRestart =
        discord.modalSubmit(alice, beforeRestart, Map.of("prompt", "the cat, again"));
    DiscordCallback restartAnswer = discord.awaitCallback(afterRestart.id());

    for (DiscordCallback answer : List.of(lateAnswer, restartAnswer)) {
      assertThat(answer.type()).isEqualTo(DiscordCallback.CHANNEL_MESSAGE_WITH_SOURCE);
      assertThat(answer.isEphemeral()).isTrue();
      assertThat(answer.data().path("content").asText())
          .isEqualTo(
              "⚠️ The images of that message are no longer at "
                  + "hand (a form keeps them for 15 minutes, and not across a restart of the bot), so nothing was made or "
                  + "charged. Use \"Imagine with this image\" on the message again.");
    }
    assertThat(backend.runs.get()).isZero();
    assertThat(quotaText(alice)).contains("(spent 0)");
  }

  @Test
  void aLongJobsImagePingsOnlyItsUserInANewMessageThatLinksToIt() throws Exception {
    startBot(OriginalLinks.NONE, true);
    DiscordInteraction quick = imagine(alice, "a quick fox --seed 30");
    awaitWorking(quick);
    backend.images.add(TestImages.noisePng(64, 64, 30));
    awaitDelivered(discord.awaitOriginalEdit(quick.token(), m -> !m.files().isEmpty()));
    DiscordInteraction slow = imagine(alice, "a slow fox --seed 31");
    awaitWorking(slow);
    clock.advance(
        Duration.ofMinutes(3)); // long enough to look away, short of the token's 15 minutes
    backend.images.add(TestImages.noisePng(64, 64, 31));

    DiscordMessage image = discord.awaitOriginalEdit(slow.token(), m -> !m.files().isEmpty());
    awaitDelivered(image);
    DiscordMessage ping = discord.awaitFollowup(slow.token(), m -> true);
    assertThat(ping.messageId())
        .as("a new message: an edit notifies nobody")
        .isNotEqualTo(image.messageId());
    assertThat(ping.isEphemeral()).isFalse();
    assertThat(ping.content())
        .isEqualTo(
            "<@"
                + FakeDiscord.DEFAULT_USER_ID
                + "> your image is ready: https://discord.com/channels/"
                + FakeDiscord.DEFAULT_GUILD_ID
                + "/"
                + FakeDiscord.DEFAULT_CHANNEL_ID
                + "/"
                + image.messageId());
    JsonNode allowed = ping.payload().path("allowed_mentions");
    assertThat(allowed.path("parse"))
        .as("no @everyone, no roles, no names in the prompt")
        .isEmpty();
    assertThat(allowed.path("users"))
        .extracting(JsonNode::asText)
        .containsExactly(FakeDiscord.DEFAULT_USER_ID);
    assertThat(discord.messages())
        .as("a quick job pings nobody")
        .noneMatch(
            m -> m.kind() == DiscordMessage.Kind.FOLLOWUP && quick.token().equals(m.token()));
  }

  @Test
  void adminQuotaShowCountsTheCreditsHeldByAnImageInProgressAsQuotaDoes() throws Exception {
    startBot(OriginalLinks.NONE, true);
    DiscordInteraction imagine = imagine(alice, "a fox on credit --seed 40");
    awaitWorking(imagine);
    String summary =
        services
            .quota()
            .show("discord", FakeDiscord.DEFAULT_GUILD_ID, FakeDiscord.DEFAULT_USER_ID, Set.of())
            .summary();
    assertThat(summary).contains("held by images in progress");

    String own = quotaText(alice);
    DiscordInteraction show =
        discord.slashCommand(
            discord.inGuild(FakeDiscord.DEFAULT_MODERATOR_ID),
            "fluxbot-admin quota show",
            Map.of("user", DiscordMention.user(FakeDiscord.DEFAULT_USER_ID)));
    String admin = discord.awaitFollowup(show.token(), m -> true).content();

    assertThat(admin).startsWith("<@" + FakeDiscord.DEFAULT_USER_ID + "> has " + summary + ";");
    assertThat(own).isEqualTo("You have " + summary + ". " + own.substring(own.indexOf("Resets")));
    backend.images.add(TestImages.noisePng(64, 64, 40));
    awaitDelivered(discord.awaitOriginalEdit(imagine.token(), m -> !m.files().isEmpty()));
  }

  /**
   * A backend whose images the test hands over one by one: a job waits in {@link #generate} until
   * it gets one.
   */
  private static final class GatedBackend implements ImageBackend {
    final BlockingQueue<byte[]> images = new LinkedBlockingQueue<>();
    final Semaphore started = new Semaphore(0);
    final AtomicInteger runs = new AtomicInteger();
    final List<GenerationJob> jobs = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public String name() {
      return "gate";
    }

    @Override
    public Optional<String> refusal(dev.fluxbot.core.model.GenerationRequest request) {
      return Optional.empty();
    }

    @Override
    public GenerationResult generate(GenerationJob job, ProgressListener progress) {
      int run = runs.incrementAndGet();
      jobs.add(job);
      started.release();
      try {
        byte[] png = images.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        if (png == null) {
          throw new UserError(UserError.Code.BACKEND_FAILED, "the test handed the gate no image");
        }
        BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(png));
        return new GenerationResult(
            png,
            ImageType.PNG,
            decoded.getWidth(),
            decoded.getHeight(),
            job.seed(),
            BigDecimal.ONE,
            name(),
            "gate-" + run,
            Duration.ZERO);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UserError(UserError.Code.CANCELLED, "interrupted");
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
