package dev.fluxbot.discord;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ProgressListener;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.testkit.DiscordCallback;
import dev.fluxbot.testkit.DiscordContext;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordMessage;
import dev.fluxbot.testkit.FakeDiscord;
import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.junit.FakeDiscordExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Word filters end to end on the real JDA logged into the fake Discord, over the real core
 * (SQLite): an admin sets them with {@code /fluxbot-admin filter}, and a matching {@code /imagine}
 * is refused before anything runs or is charged.
 */
class DiscordFiltersTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension
  final FakeDiscordExtension discordFake = new FakeDiscordExtension(b -> b.awaitTimeout(WAIT));

  private final FakeDiscord discord = discordFake.get();
  private final DiscordContext alice = discord.inGuild(FakeDiscord.DEFAULT_USER_ID);
  private final DiscordContext moderator = discord.inGuild(FakeDiscord.DEFAULT_MODERATOR_ID);
  private final List<GenerationJob> ran = new CopyOnWriteArrayList<>();

  @Order(Integer.MAX_VALUE) // stops before the fake Discord closes
  @RegisterExtension
  final FluxbotCoreExtension cores =
      new FluxbotCoreExtension(b -> b.backends(new InstantBackend()));

  private ChatServices services;
  private DiscordBot bot;

  @BeforeEach
  void start() throws Exception {
    FluxbotCore core = cores.get();
    services = core.chatServices(Duration.ofHours(1), Sleeper.SYSTEM);
    bot =
        new DiscordBot(
            new DiscordBot.Config(
                Secret.of(discord.token()),
                discord.restBaseUrl(),
                discord.gatewayUrl(),
                Set.of(),
                true),
            services,
            OriginalLinks.NONE);
    bot.start();
  }

  @AfterEach
  void stop() {
    if (bot != null) {
      bot.close();
    }
  }

  private String admin(String command, Map<String, ?> options) {
    DiscordInteraction i =
        discord.slashCommand(moderator, "fluxbot-admin filter " + command, options);
    return discord.awaitFollowup(i.token(), m -> true).content();
  }

  /** The /imagine's image. */
  private DiscordMessage imagine(DiscordContext who, String prompt) {
    DiscordInteraction i = send(who, prompt);
    return discord.awaitOriginalEdit(i.token(), m -> !m.files().isEmpty());
  }

  /** The /imagine's refusal: a message only its user sees. */
  private DiscordMessage refused(DiscordContext who, String prompt) {
    DiscordInteraction i = send(who, prompt);
    DiscordMessage refusal = discord.awaitFollowup(i.token(), m -> m.content().startsWith("⚠️"));
    assertThat(refusal.isEphemeral()).isTrue();
    return refusal;
  }

  private DiscordInteraction send(DiscordContext who, String prompt) {
    DiscordInteraction i = discord.slashCommand(who, "imagine", Map.of("prompt", prompt));
    assertThat(discord.awaitCallback(i.id()).type())
        .isEqualTo(DiscordCallback.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE);
    return i;
  }

  private String credits() {
    return services
        .quota()
        .show("discord", FakeDiscord.DEFAULT_GUILD_ID, FakeDiscord.DEFAULT_USER_ID, Set.of())
        .summary();
  }

  @Test
  void anAdminsFilterRefusesAMatchingImagineBeforeAnythingRunsOrIsCharged() {
    assertThat(admin("add", Map.of("pattern", "red fox")))
        .isEqualTo(
            "Added the word filter \"red fox\" on this server. Prompts that match it are refused"
                + " before anything is charged.");
    assertThat(admin("add", Map.of("pattern", "nud(e|ity", "regex", true)))
        .startsWith("⚠️ pattern: must be a valid regular expression; \"nud(e|ity\" is not (")
        .contains("Unclosed group");
    assertThat(admin("add", Map.of("pattern", "(x+x+)+y", "regex", true)))
        .startsWith("⚠️ pattern: a regex must answer within 50 ms");
    assertThat(admin("add", Map.of("pattern", "nud(e|ity)", "regex", true)))
        .startsWith("Added the regex filter");
    assertThat(admin("list", Map.of()))
        .isEqualTo("Word filters on this server (2):\n• word \"red fox\"\n• regex \"nud(e|ity)\"");
    String before = credits();

    DiscordMessage refusal = refused(alice, "a RÉD   Fox in snow --seed 3");
    assertThat(refusal.content())
        .isEqualTo(
            "⚠️ prompt: must not match the word filters set for this bot; one of them matched."
                + " Nothing was made or charged. Rephrase the prompt and try again.");
    assertThat(refused(alice, "a {blue, red} fox").content()).contains("one of them matched");
    assertThat(refused(alice, "NUDITY").content()).contains("one of them matched");
    assertThat(ran).isEmpty();
    assertThat(credits()).isEqualTo(before);

    assertThat(refused(moderator, "a red fox").content())
        .contains(
            "it matches the filter \"red fox\" (word, discord "
                + FakeDiscord.DEFAULT_GUILD_ID
                + ") in \"a red fox\"");

    assertThat(admin("remove", Map.of("pattern", "red fox")))
        .isEqualTo("Removed the filter \"red fox\" on this server.");
    assertThat(admin("remove", Map.of("pattern", "red fox")))
        .startsWith("⚠️ filter remove: no filter \"red fox\" is set on this server");
    DiscordMessage image = imagine(alice, "a red fox --seed 3");
    assertThat(image.files()).hasSize(1);
    assertThat(ran).extracting(j -> j.request().prompt()).containsExactly("a red fox");
  }

  /** Answers at once with a small PNG. */
  private final class InstantBackend implements ImageBackend {
    @Override
    public String name() {
      return "instant";
    }

    @Override
    public Optional<String> refusal(GenerationRequest request) {
      return Optional.empty();
    }

    @Override
    public GenerationResult generate(GenerationJob job, ProgressListener progress) {
      ran.add(job);
      return new GenerationResult(
          TestImages.noisePng(64, 64, 3),
          ImageType.PNG,
          64,
          64,
          job.seed(),
          BigDecimal.ONE,
          name(),
          "instant-" + ran.size(),
          Duration.ZERO);
    }
  }
}
