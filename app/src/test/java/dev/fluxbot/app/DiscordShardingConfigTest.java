package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.discord.Shards;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code discord.shards_total} and {@code discord.shard_ids}, and their environment variables. */
class DiscordShardingConfigTest {
  @TempDir Path dir;

  private FluxbotConfig load(String yaml) throws Exception {
    Path file = dir.resolve("fluxbot.yaml");
    Files.writeString(file, yaml);
    return FluxbotConfig.load(file);
  }

  private String error(String yaml) {
    Path file = dir.resolve("fluxbot.yaml");
    return assertThatThrownBy(() -> load(yaml))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .actual()
        .getMessage()
        .substring(file.toString().length() + 2);
  }

  private static Shards shards(FluxbotConfig config, Map<String, String> env) {
    return DiscordSharding.shards(new Environment(env), config.discord());
  }

  @Test
  void byDefaultOneInstanceRunsAsManyShardsAsDiscordRecommends() throws Exception {
    FluxbotConfig config = load("discord:\n  allow_dms: true\n");
    assertThat(config.discord().shardsTotal()).isEqualTo("auto");
    assertThat(config.discord().shardIds()).isEqualTo("all");
    assertThat(shards(config, Map.of())).isEqualTo(Shards.AUTOMATIC);
  }

  @Test
  void aTotalAndIdsAndRangesGiveThisInstanceItsShards() throws Exception {
    assertThat(shards(load("discord:\n  shards_total: 4\n"), Map.of())).isEqualTo(Shards.all(4));
    assertThat(shards(load("discord:\n  shards_total: 8\n  shard_ids: 0,1\n"), Map.of()))
        .isEqualTo(new Shards(8, List.of(0, 1)));
    assertThat(shards(load("discord:\n  shards_total: 8\n  shard_ids: 4-6, 1\n"), Map.of()))
        .isEqualTo(new Shards(8, List.of(1, 4, 5, 6)));
    assertThat(shards(load("discord:\n  shards_total: 2\n  shard_ids: 1\n"), Map.of()))
        .isEqualTo(new Shards(2, List.of(1)));
  }

  @Test
  void theEnvironmentWinsOverTheFile() throws Exception {
    FluxbotConfig config = load("discord:\n  shards_total: 2\n  shard_ids: 0\n");
    assertThat(
            shards(
                config,
                Map.of(
                    Environment.DISCORD_SHARDS_TOTAL, "4",
                    Environment.DISCORD_SHARD_IDS, "2-3")))
        .isEqualTo(new Shards(4, List.of(2, 3)));
    assertThat(shards(config, Map.of(Environment.DISCORD_SHARD_IDS, "1")))
        .isEqualTo(new Shards(2, List.of(1)));
  }

  @Test
  void badSettingsInTheFileNameTheFieldTheRuleAndTheValue() {
    assertThat(error("discord:\n  shards_total: 2\n  shard_ids: 0-2\n"))
        .contains("discord.shard_ids: shard 2 is outside 0..1")
        .contains("2 shard(s) in all")
        .contains("\"0-2\"");
    assertThat(error("discord:\n  shard_ids: 0,1\n"))
        .contains("discord.shard_ids: shard ids need discord.shards_total set")
        .contains("not auto")
        .contains("\"0,1\"");
    assertThat(error("discord:\n  shards_total: 4\n  shard_ids: 3-1\n"))
        .contains("discord.shard_ids: the range 3-1 runs backwards")
        .contains("like 1-3");
    assertThat(error("discord:\n  shards_total: 4\n  shard_ids: 0-\n"))
        .contains("discord.shard_ids: \"0-\" is not a shard id or a range")
        .contains("like 0,1 or 0-3");
    assertThat(error("discord:\n  shards_total: 4\n  shard_ids: 0,1,1\n"))
        .contains("discord.shard_ids: shard 1 is listed twice");
    assertThat(error("discord:\n  shards_total: 0\n"))
        .contains("discord.shards_total: must be auto")
        .contains("or a whole number from 1 to 100000")
        .contains("got \"0\"");
    assertThat(error("discord:\n  shards_total: many\n"))
        .contains("discord.shards_total:")
        .contains("got \"many\"");
  }

  @Test
  void badEnvironmentVariablesAreNamedToo() throws Exception {
    FluxbotConfig config = load("discord:\n  allow_dms: true\n");
    assertThatThrownBy(() -> shards(config, Map.of(Environment.DISCORD_SHARD_IDS, "0-3")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("FLUXBOT_DISCORD_SHARD_IDS: shard ids need discord.shards_total");
    assertThatThrownBy(
            () ->
                shards(
                    config,
                    Map.of(
                        Environment.DISCORD_SHARDS_TOTAL, "2",
                        Environment.DISCORD_SHARD_IDS, "2")))
        .hasMessageContaining("FLUXBOT_DISCORD_SHARD_IDS: shard 2 is outside 0..1");
    assertThatThrownBy(() -> shards(config, Map.of(Environment.DISCORD_SHARDS_TOTAL, "-1")))
        .hasMessageContaining("FLUXBOT_DISCORD_SHARDS_TOTAL: must be auto");
  }
}
