package dev.fluxbot.testkit.discord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.testkit.DiscordContext;
import dev.fluxbot.testkit.DiscordGuild;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordMember;
import dev.fluxbot.testkit.DiscordShard;
import dev.fluxbot.testkit.FakeDiscord;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Sharding as Discord documents it, seen with bare gateway clients: the recommended count, the
 * shard in IDENTIFY checked (4010, 4011), and each guild's events only on its shard.
 */
class FakeDiscordShardingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String USER = "1200000000000000201";
  private static final String OWNER = "1200000000000000200";

  /** A guild id whose shard is {@code shard} of {@code total}: {@code (id >> 22) % total}. */
  static String guildOnShard(int shard, int total, int n) {
    long timestamp = 300_000_000_000L / total * total + (long) n * total + shard;
    return Long.toString(timestamp << 22 | 7);
  }

  private static DiscordGuild guild(String id, String channelId) {
    return DiscordGuild.of(id, "Guild " + id, OWNER)
        .withMember(DiscordMember.of(OWNER, "owner"))
        .withMember(DiscordMember.of(USER, "alice"))
        .withTextChannel(channelId);
  }

  private static void identify(GatewayClient client, String token, String shard) {
    client.nextOp(10);
    client.send(
        "{\"op\":2,\"d\":{\"token\":\""
            + token
            + "\",\"intents\":1,\"properties\":{}"
            + (shard == null ? "" : ",\"shard\":" + shard)
            + "}}");
  }

  private static List<String> guildIds(JsonNode ready) {
    List<String> ids = new ArrayList<>();
    ready.path("d").path("guilds").forEach(g -> ids.add(g.path("id").asText()));
    return ids;
  }

  @Test
  void gatewayBotRecommendsTheConfiguredShardsAndConcurrency() throws Exception {
    try (FakeDiscord discord =
        FakeDiscord.builder().recommendedShards(3).maxConcurrency(2).start()) {
      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(discord.restBaseUrl() + "gateway/bot"))
                      .header("Authorization", "Bot " + discord.token())
                      .build(),
                  HttpResponse.BodyHandlers.ofString());

      JsonNode body = JSON.readTree(response.body());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(body.path("shards").asInt()).isEqualTo(3);
      assertThat(body.path("session_start_limit").path("max_concurrency").asInt()).isEqualTo(2);
      assertThat(body.path("url").asText()).isEqualTo(discord.gatewayUrl());
    }
  }

  @Test
  void aShardOutsideItsTotalIsClosedWith4010InvalidShard() {
    try (FakeDiscord discord = FakeDiscord.start()) {
      for (String shard : List.of("[2,2]", "[-1,2]", "[0,0]", "[0]", "\"0,1\"", "[0.5,2]")) {
        try (GatewayClient client = new GatewayClient(discord.gatewayUrl())) {
          identify(client, discord.token(), shard);
          assertThat(client.awaitClose()).as("shard " + shard).isEqualTo(4010);
        }
      }
      assertThat(discord.liveGatewaySessions()).isZero();
    }
  }

  @Test
  void aShardWithMoreGuildsThanTheLimitIsClosedWith4011ShardingRequired() {
    String onZero = guildOnShard(0, 2, 1);
    String onOne = guildOnShard(1, 2, 1);
    try (FakeDiscord discord =
            FakeDiscord.builder()
                .guild(guild(onZero, "1300000000000000001"))
                .guild(guild(onOne, "1300000000000000002"))
                .maxGuildsPerShard(1)
                .start();
        GatewayClient unsharded = new GatewayClient(discord.gatewayUrl());
        GatewayClient zero = new GatewayClient(discord.gatewayUrl());
        GatewayClient one = new GatewayClient(discord.gatewayUrl())) {
      identify(unsharded, discord.token(), null);
      assertThat(unsharded.awaitClose()).isEqualTo(4011);

      identify(zero, discord.token(), "[0,2]");
      identify(one, discord.token(), "[1,2]");

      JsonNode readyZero = zero.nextDispatch("READY");
      assertThat(guildIds(readyZero)).containsExactly(onZero);
      assertThat(readyZero.path("d").path("shard").toString()).isEqualTo("[0,2]");
      assertThat(zero.nextDispatch("GUILD_CREATE").path("d").path("id").asText()).isEqualTo(onZero);
      assertThat(guildIds(one.nextDispatch("READY"))).containsExactly(onOne);
      assertThat(one.nextDispatch("GUILD_CREATE").path("d").path("id").asText()).isEqualTo(onOne);
      discord.awaitLiveGatewaySessions(2);
      assertThat(discord.liveGatewayShards())
          .containsExactlyInAnyOrder(new DiscordShard(0, 2), new DiscordShard(1, 2));
    }
  }

  @Test
  void aGuildsInteractionsGoOnlyToItsShardAndDirectMessagesToShardZero() {
    String onZero = guildOnShard(0, 2, 2);
    String onOne = guildOnShard(1, 2, 2);
    try (FakeDiscord discord =
            FakeDiscord.builder()
                .guild(guild(onZero, "1300000000000000011"))
                .guild(guild(onOne, "1300000000000000012"))
                .awaitTimeout(Duration.ofSeconds(20))
                .start();
        GatewayClient zero = new GatewayClient(discord.gatewayUrl());
        GatewayClient one = new GatewayClient(discord.gatewayUrl())) {
      identify(zero, discord.token(), "[0,2]");
      identify(one, discord.token(), "[1,2]");
      discord.awaitLiveGatewaySessions(2);
      DiscordContext inZero = DiscordContext.guild(onZero, "1300000000000000011", USER);
      DiscordContext inOne = DiscordContext.guild(onOne, "1300000000000000012", USER);

      DiscordInteraction first = discord.slashCommand(inOne, "quota", Map.of());
      DiscordInteraction second = discord.slashCommand(inZero, "quota", Map.of());
      DiscordInteraction dm = discord.slashCommand(DiscordContext.dm(USER), "quota", Map.of());
      DiscordInteraction last = discord.slashCommand(inOne, "quota", Map.of());

      assertThat(interactionId(zero)).isEqualTo(second.id());
      assertThat(interactionId(zero)).isEqualTo(dm.id());
      assertThat(interactionId(one)).isEqualTo(first.id());
      assertThat(interactionId(one))
          .as("shard 1 got neither the guild on shard 0 nor the DM")
          .isEqualTo(last.id());
    }
  }

  @Test
  void anEventForAShardNoSessionRunsFailsNamingTheShards() {
    String onOne = guildOnShard(1, 2, 3);
    try (FakeDiscord discord =
            FakeDiscord.builder()
                .guild(guild(onOne, "1300000000000000021"))
                .awaitTimeout(Duration.ofMillis(300))
                .start();
        GatewayClient zero = new GatewayClient(discord.gatewayUrl())) {
      identify(zero, discord.token(), "[0,2]");
      discord.awaitLiveGatewaySessions(1);

      assertThatThrownBy(
              () ->
                  discord.slashCommand(
                      DiscordContext.guild(onOne, "1300000000000000021", USER), "quota", Map.of()))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("guild " + onOne)
          .hasMessageContaining("[0, 2]");
    }
  }

  @Test
  void aGuildsShardIsItsIdShiftedBy22ModuloTheTotal() {
    assertThat(DiscordShard.of("41771983423143937", 1)).isZero();
    assertThat(DiscordShard.of(guildOnShard(3, 4, 9), 4)).isEqualTo(3);
    assertThat(new DiscordShard(1, 2).receives(null)).isFalse();
    assertThat(DiscordShard.ONLY.receives(null)).isTrue();
    assertThatThrownBy(() -> new DiscordShard(2, 2))
        .hasMessageContaining("0 <= id < total")
        .hasMessageContaining("[2, 2]");
  }

  private static String interactionId(GatewayClient client) {
    return client.nextDispatch("INTERACTION_CREATE").path("d").path("id").asText();
  }
}
