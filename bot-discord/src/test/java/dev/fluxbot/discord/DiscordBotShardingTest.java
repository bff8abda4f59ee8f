package dev.fluxbot.discord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ProgressListener;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.backend.ImageBackend;
import dev.fluxbot.core.model.GenerationJob;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.testkit.DiscordCallback;
import dev.fluxbot.testkit.DiscordContext;
import dev.fluxbot.testkit.DiscordGuild;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordMember;
import dev.fluxbot.testkit.DiscordShard;
import dev.fluxbot.testkit.FakeDiscord;
import dev.fluxbot.testkit.TestImages;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import java.awt.Color;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The adapter on JDA's ShardManager against one fake Discord: instances that split the shards each
 * answer only their own guilds' interactions, automatic mode runs as many shards as Discord
 * recommends, and a refused shard stops the start with a clear message.
 */
class DiscordBotShardingTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String USER = "1200000000000000201";
  private static final String OWNER = "1200000000000000200";
  private static final String CHANNEL_ON_ZERO = "1300000000000000101";
  private static final String CHANNEL_ON_ONE = "1300000000000000102";
  private static final String COMMANDS = "PUT /applications/{app}/commands";
  private static final String CALLBACK = "POST /interactions/{id}/{token}/callback";

  private static final String GUILD_ON_ZERO = guildOnShard(0, 2);
  private static final String GUILD_ON_ONE = guildOnShard(1, 2);

  private final List<DiscordBot> bots = new ArrayList<>();
  private FakeDiscord discord;

  @Order(Integer.MAX_VALUE) // stops after the bots and before the fake
  @RegisterExtension
  final FluxbotCoreExtension cores = new FluxbotCoreExtension();

  @AfterEach
  void stop() {
    bots.forEach(DiscordBot::close);
    cores.stop();
    if (discord != null) {
      discord.close();
    }
  }

  /** A guild id whose shard is {@code shard} of {@code total}: {@code (id >> 22) % total}. */
  private static String guildOnShard(int shard, int total) {
    long timestamp = 300_000_000_000L / total * total + shard;
    return Long.toString(timestamp << 22 | 5);
  }

  private static DiscordGuild guild(String id, String channelId) {
    return DiscordGuild.of(id, "Guild " + id, OWNER)
        .withMember(DiscordMember.of(OWNER, "owner"))
        .withMember(DiscordMember.of(USER, "alice"))
        .withTextChannel(channelId);
  }

  private FakeDiscord fake(int recommendedShards, int maxGuildsPerShard) {
    discord =
        FakeDiscord.builder()
            .guild(guild(GUILD_ON_ZERO, CHANNEL_ON_ZERO))
            .guild(guild(GUILD_ON_ONE, CHANNEL_ON_ONE))
            .recommendedShards(recommendedShards)
            .maxConcurrency(recommendedShards)
            .maxGuildsPerShard(maxGuildsPerShard)
            .awaitTimeout(WAIT)
            .start();
    return discord;
  }

  private DiscordBot bot(FluxbotCore core, Shards shards) throws InterruptedException {
    DiscordBot bot =
        new DiscordBot(
            new DiscordBot.Config(
                Secret.of(discord.token()),
                discord.restBaseUrl(),
                discord.gatewayUrl(),
                Set.of(),
                true,
                shards),
            core.chatServices(Duration.ofHours(1), core.clock(), Sleeper.SYSTEM));
    bots.add(bot);
    bot.start();
    return bot;
  }

  /** Sends /imagine and waits for its image; returns how many callbacks the interaction got. */
  private long imagine(String guildId, String channelId, String prompt) {
    DiscordInteraction imagine =
        discord.slashCommand(
            DiscordContext.guild(guildId, channelId, USER), "imagine", Map.of("prompt", prompt));
    assertThat(discord.awaitCallback(imagine.id()).type())
        .isEqualTo(DiscordCallback.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE);
    discord.awaitOriginalEdit(imagine.token(), m -> !m.files().isEmpty());
    return discord.requests(CALLBACK).stream()
        .filter(r -> r.path().contains("/interactions/" + imagine.id() + "/"))
        .count();
  }

  @Test
  void twoInstancesOnShardsZeroAndOneEachAnswerOnlyTheirOwnGuilds() throws Exception {
    fake(1, 1);
    CountingBackend first = new CountingBackend();
    CountingBackend second = new CountingBackend();
    bot(cores.start(b -> b.backends(first)), new Shards(2, List.of(0)));
    bot(cores.startBeside(b -> b.backends(second)), new Shards(2, List.of(1)));
    discord.awaitLiveGatewaySessions(2);
    assertThat(discord.liveGatewayShards())
        .containsExactly(new DiscordShard(0, 2), new DiscordShard(1, 2));

    assertThat(imagine(GUILD_ON_ZERO, CHANNEL_ON_ZERO, "a fox on shard zero")).isEqualTo(1);
    assertThat(first.runs.get()).as("the instance with shard 0 made it").isEqualTo(1);
    assertThat(second.runs.get()).as("the instance with shard 1 never saw it").isZero();

    assertThat(imagine(GUILD_ON_ONE, CHANNEL_ON_ONE, "an owl on shard one")).isEqualTo(1);
    assertThat(second.runs.get()).isEqualTo(1);
    assertThat(first.runs.get()).isEqualTo(1);

    assertThat(discord.requests(COMMANDS))
        .as("the global commands are registered once, by the instance with shard 0")
        .hasSize(1);
    assertThat(discord.registeredCommands())
        .extracting(c -> c.path("name").asText())
        .contains("imagine", "quota");
  }

  @Test
  void automaticModeRunsAsManyShardsAsDiscordRecommendsAndAnswersEveryGuild() throws Exception {
    fake(2, 1);
    CountingBackend backend = new CountingBackend();
    bot(cores.start(b -> b.backends(backend)), Shards.AUTOMATIC);

    assertThat(discord.liveGatewayShards())
        .containsExactlyInAnyOrder(new DiscordShard(0, 2), new DiscordShard(1, 2));
    assertThat(imagine(GUILD_ON_ZERO, CHANNEL_ON_ZERO, "a fox")).isEqualTo(1);
    assertThat(imagine(GUILD_ON_ONE, CHANNEL_ON_ONE, "an owl")).isEqualTo(1);
    assertThat(backend.runs.get()).isEqualTo(2);
    assertThat(discord.requests(COMMANDS)).hasSize(1);
  }

  @Test
  void theBotSaysWhetherEveryShardIsConnected() throws Exception {
    fake(2, 1);
    DiscordBot bot = bot(cores.start(b -> b.backends(new CountingBackend())), Shards.AUTOMATIC);
    assertThat(bot.platform()).isEqualTo("discord");
    assertThat(bot.connection())
        .isEqualTo(
            dev.fluxbot.core.chat.ChatConnection.Status.connected("2 of 2 shard(s) connected"));
    discord.close(); // Discord is gone: JDA tries to reconnect
    dev.fluxbot.testkit.Await.until(
        "the bot says it is disconnected",
        WAIT,
        () -> bot.connection().state() == dev.fluxbot.core.chat.ChatConnection.State.DISCONNECTED);
    assertThat(bot.connection().detail()).endsWith("of 2 shard(s) connected");
    bot.close();
    assertThat(bot.connection())
        .isEqualTo(dev.fluxbot.core.chat.ChatConnection.Status.disconnected("closed"));
  }

  @Test
  void tooFewShardsForTheGuildsStopTheStartWithWhatToChange() {
    fake(2, 1);
    FluxbotCore core = cores.start(b -> b.backends(new CountingBackend()));

    assertThatThrownBy(() -> bot(core, Shards.all(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Discord refused shard 0 of 1")
        .hasMessageContaining("4011 Sharding required")
        .hasMessageContaining("discord.shards_total");
    assertThat(discord.requests(COMMANDS)).isEmpty();
  }

  @Test
  void shardIdsOutsideTheTotalOrWithoutOneAreRefusedBeforeAnyLogin() {
    assertThatThrownBy(() -> new Shards(2, List.of(2)))
        .hasMessageContaining("Shard id 2 is outside 0..1");
    assertThatThrownBy(() -> new Shards(0, List.of(0))).hasMessageContaining("need a shard total");
    assertThatThrownBy(() -> new Shards(2, List.of(1, 1))).hasMessageContaining("must not repeat");
    assertThat(Shards.describe(List.of(0, 1, 2, 3))).isEqualTo("0-3");
    assertThat(Shards.describe(List.of(0, 2))).isEqualTo("0, 2");
  }

  /** Makes a small PNG at once and counts the jobs it was given. */
  private static final class CountingBackend implements ImageBackend {
    final AtomicInteger runs = new AtomicInteger();

    @Override
    public String name() {
      return "counting";
    }

    @Override
    public Optional<String> refusal(GenerationRequest request) {
      return Optional.empty();
    }

    @Override
    public GenerationResult generate(GenerationJob job, ProgressListener progress) {
      runs.incrementAndGet();
      return new GenerationResult(
          TestImages.solidPng(64, 64, Color.ORANGE),
          ImageType.PNG,
          64,
          64,
          job.seed(),
          BigDecimal.ONE,
          name(),
          "counting-" + runs.get(),
          Duration.ZERO);
    }
  }
}
