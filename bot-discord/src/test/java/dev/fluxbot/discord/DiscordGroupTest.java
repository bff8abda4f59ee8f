package dev.fluxbot.discord;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.ProgressListener;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.image.AddressPolicy;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.DiscordCallback;
import dev.fluxbot.testkit.DiscordContext;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordMessage;
import dev.fluxbot.testkit.DiscordPart;
import dev.fluxbot.testkit.FakeDiscord;
import dev.fluxbot.testkit.MutableClock;
import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.junit.FakeDiscordExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code --n 4} on Discord: the real JDA against the fake Discord, over the real core (SQLite, the
 * disk image store, quotas). One message with four attachments and the group's buttons; U2, V3 and
 * R after a restart of the bot; a 2×2 grid where the files do not fit; the refusals.
 */
class DiscordGroupTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final MutableClock clock = new MutableClock(Instant.now());

  @RegisterExtension
  final FakeDiscordExtension discordFake =
      new FakeDiscordExtension(b -> b.clock(clock).awaitTimeout(WAIT));

  private final FakeDiscord discord = discordFake.get();
  private final DiscordContext alice = discord.inGuild(FakeDiscord.DEFAULT_USER_ID);
  private final NoiseBackend backend = new NoiseBackend();

  @Order(Integer.MAX_VALUE)
  @RegisterExtension
  final FluxbotCoreExtension cores =
      new FluxbotCoreExtension(
          b ->
              b.backends(backend)
                  .referenceAddresses(AddressPolicy.permitting("test", List.of("127.0.0.0/8")))
                  .quotaSettings(
                      new QuotaService.Settings(
                          ZoneOffset.UTC, QuotaService.Period.DAY, 10_000, 2, null))
                  .imagineSettings(new ImagineService.Settings(1000, 0, List.of()))
                  .random(new Random(1)));

  private JobStore jobs;
  private DiscordBot.Config config;
  private ChatServices services;
  private DiscordBot bot;
  private ImagineService imagine;

  @AfterEach
  void stop() throws Exception {
    if (bot != null) {
      bot.close();
    }
  }

  private void startBot() throws InterruptedException {
    FluxbotCore core = cores.get();
    jobs = core.jobs();
    imagine = core.imagine();
    config =
        new DiscordBot.Config(
            Secret.of(discord.token()),
            discord.restBaseUrl(),
            discord.gatewayUrl(),
            Set.of(),
            true);
    services = core.chatServices(Duration.ofHours(1), clock, Sleeper.SYSTEM);
    bot = new DiscordBot(config, services, OriginalLinks.NONE);
    bot.start();
  }

  private void restartBot() throws InterruptedException {
    bot.close();
    discord.awaitLiveGatewaySessions(0);
    bot = new DiscordBot(config, services, OriginalLinks.NONE);
    bot.start();
    DiscordBot restarted = bot;
    imagine.resumeUnfinished(j -> true, j -> restarted.replyFor(j).orElse(null));
  }

  private DiscordMessage imagineAndAwait(String prompt) {
    DiscordInteraction imagine = discord.slashCommand(alice, "imagine", Map.of("prompt", prompt));
    assertThat(discord.awaitCallback(imagine.id()).type())
        .isEqualTo(DiscordCallback.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE);
    return discord.awaitOriginalEdit(imagine.token(), m -> !m.files().isEmpty());
  }

  private void awaitDelivered(List<String> jobIds) {
    Await.until(
        "the group's jobs marked delivered",
        WAIT,
        () -> jobs.undelivered(20).stream().noneMatch(j -> jobIds.contains(j.id())));
  }

  private static String idOf(DiscordMessage m, String label) {
    for (var row : m.components()) {
      for (var button : row.path("components")) {
        if (button.path("label").asText().equals(label)) {
          return button.path("custom_id").asText();
        }
      }
    }
    throw new AssertionError("no button " + label + " in " + m);
  }

  private static String jobOf(String customId) {
    return customId.substring(customId.lastIndexOf(':') + 1);
  }

  @Test
  void fourImagesComeInOneMessageWithTheirSeedsAndTheButtonsWorkAfterARestart() throws Exception {
    startBot();
    DiscordMessage grid = imagineAndAwait("a lighthouse --n 4 --seed 100");

    assertThat(grid.files()).hasSize(4);
    assertThat(grid.files())
        .extracting(DiscordPart::filename)
        .containsExactly(
            "fluxbot-100.png", "fluxbot-101.png", "fluxbot-102.png", "fluxbot-103.png");
    assertThat(grid.content()).contains("4 images", "seeds 1: 100, 2: 101, 3: 102, 4: 103");
    assertThat(grid.components()).hasSize(3);
    List<String> labels =
        List.of(
            "U1", "U2", "U3", "U4", "R", "V1", "V2", "V3", "V4", "Ref 1", "Ref 2", "Ref 3",
            "Ref 4");
    for (String label : labels) {
      assertThat(idOf(grid, label)).startsWith("fx:").hasSizeLessThanOrEqualTo(100);
    }
    List<String> groupJobs =
        List.of("U1", "U2", "U3", "U4").stream().map(l -> jobOf(idOf(grid, l))).toList();
    awaitDelivered(groupJobs);
    for (String id : groupJobs) {
      JobStore.Job job = jobs.find(id).orElseThrow();
      assertThat(job.state()).isEqualTo(JobStore.State.SUCCEEDED);
      assertThat(job.costMilli()).isEqualTo(1_000); // each image charged as one job
    }
    assertThat(backend.jobs).hasSize(4);

    restartBot();

    DiscordInteraction u2 = discord.button(alice, grid.messageId(), idOf(grid, "U2"));
    DiscordMessage upscaled = discord.awaitOriginalEdit(u2.token(), m -> !m.files().isEmpty());
    GenerationJob twoK = backend.jobs.get(4);
    assertThat(twoK.request().hiRes()).isTrue();
    assertThat(twoK.seed()).isEqualTo(101L);
    assertThat(upscaled.content()).contains("seed 101");

    String v3 = idOf(grid, "V3");
    DiscordInteraction v3Press = discord.button(alice, grid.messageId(), v3);
    assertThat(discord.awaitCallback(v3Press.id()).type()).isEqualTo(DiscordCallback.MODAL);
    DiscordInteraction varied =
        discord.modalSubmit(alice, v3, Map.of("prompt", "a lighthouse in fog"));
    discord.awaitOriginalEdit(varied.token(), m -> !m.files().isEmpty());
    GenerationJob vary = backend.jobs.get(5);
    assertThat(vary.seed()).isEqualTo(102L);
    assertThat(vary.request().prompt()).isEqualTo("a lighthouse in fog");

    DiscordInteraction r = discord.button(alice, grid.messageId(), idOf(grid, "R"));
    DiscordMessage again = discord.awaitOriginalEdit(r.token(), m -> !m.files().isEmpty());
    assertThat(again.files()).hasSize(4);
    List<Long> seeds =
        backend.jobs.subList(6, 10).stream().map(GenerationJob::seed).sorted().toList();
    assertThat(seeds).doesNotContain(100L);
    assertThat(seeds.get(3)).isEqualTo(seeds.get(0) + 3);
  }

  @Test
  void imagesOverTheUploadLimitComeAsOneGridImage() throws Exception {
    startBot();
    discord.setAttachmentSizeLimit(40_000); // each noise PNG is larger; a JPEG grid fits

    DiscordMessage grid = imagineAndAwait("a lighthouse --n 4 --seed 7");

    assertThat(grid.files()).hasSize(1);
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(grid.files().get(0).bytes()));
    assertThat(image.getWidth()).isEqualTo(image.getHeight()); // 2×2 squares
    assertThat(grid.content()).contains("as one grid", "seeds 1: 7, 2: 8, 3: 9, 4: 10");
  }

  @Test
  void moreImagesThanTheCreditsLeftAndBadCountsAreRefusedAndNothingRuns() throws Exception {
    startBot();
    for (String[] c :
        List.of(
            new String[] {"a fox --n 5", "--n: must be a whole number from 1 to 4", "got \"5\""},
            new String[] {"a fox --n 0", "--n: must be a whole number from 1 to 4", "got \"0\""},
            new String[] {"a fox --n x", "--n: must be a whole number from 1 to 4", "got \"x\""})) {
      DiscordInteraction bad = discord.slashCommand(alice, "imagine", Map.of("prompt", c[0]));
      DiscordMessage error =
          discord.awaitMessage(
              m ->
                  m.token() != null
                      && m.token().equals(bad.token())
                      && m.content().contains("--n"));
      assertThat(error.content()).contains(c[1], c[2]);
    }
    DiscordMessage first = imagineAndAwait("a fox --n 4 --seed 1");
    assertThat(first.files()).hasSize(4);
    awaitDelivered(List.of(jobOf(idOf(first, "U1"))));
    DiscordMessage second = imagineAndAwait("a fox --n 3 --seed 20");
    assertThat(second.files()).hasSize(3);
    awaitDelivered(List.of(jobOf(idOf(second, "U1"))));

    DiscordInteraction tooMany =
        discord.slashCommand(alice, "imagine", Map.of("prompt", "a fox --n 4 --seed 50"));
    DiscordMessage refusal =
        discord.awaitMessage(
            m ->
                m.token() != null
                    && m.token().equals(tooMany.token())
                    && m.content().contains("together"));
    assertThat(refusal.content())
        .contains(
            "--n 4: these 4 images need 4 credits together; you have 3 left. Ask for fewer (--n 3)")
        .doesNotContain("Exception");
    assertThat(backend.jobs).hasSize(7);
    assertThat(services.quota().held()).isEmpty();
  }

  @Test
  void aUsersDefaultNFromSettingsApplies() throws Exception {
    startBot();
    DiscordInteraction settings = discord.slashCommand(alice, "settings", Map.of("n", 2));
    assertThat(discord.awaitCallback(settings.id()).data().path("content").asText())
        .contains("Your default --n is now **2**");

    DiscordMessage two = imagineAndAwait("a fox --seed 3");

    assertThat(two.files()).hasSize(2);
    assertThat(two.content()).contains("seeds 1: 3, 2: 4");
  }

  /** Makes a small noise PNG per job at once, seeded by the job's seed; records every job. */
  private static final class NoiseBackend implements ImageBackend {
    final List<GenerationJob> jobs = new CopyOnWriteArrayList<>();

    @Override
    public String name() {
      return "noise";
    }

    @Override
    public Optional<String> refusal(dev.fluxbot.core.model.GenerationRequest request) {
      return Optional.empty();
    }

    @Override
    public GenerationResult generate(GenerationJob job, ProgressListener progress) {
      jobs.add(job);
      byte[] png = TestImages.noisePng(160, 160, job.seed());
      try {
        BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(png));
        return new GenerationResult(
            png,
            ImageType.PNG,
            decoded.getWidth(),
            decoded.getHeight(),
            job.seed(),
            BigDecimal.ONE,
            name(),
            "noise-" + jobs.size(),
            Duration.ZERO);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
