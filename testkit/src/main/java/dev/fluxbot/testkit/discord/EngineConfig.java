package dev.fluxbot.testkit.discord;

import dev.fluxbot.testkit.DiscordGuild;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;

/**
 * What {@code FakeDiscord.Builder} hands the engine; internal, use {@code FakeDiscord.builder()}.
 *
 * @param messageContentIntent whether the application has the privileged Message Content intent
 * @param recommendedShards the {@code shards} that {@code GET /gateway/bot} recommends
 * @param maxConcurrency {@code session_start_limit.max_concurrency} of {@code GET /gateway/bot}
 * @param maxGuildsPerShard more guilds than this on one session's shard close it with 4011
 */
public record EngineConfig(
    String token,
    String applicationId,
    String botUserId,
    String botUsername,
    List<DiscordGuild> guilds,
    InstantSource clock,
    Duration awaitTimeout,
    int heartbeatIntervalMillis,
    long attachmentSizeLimit,
    boolean messageContentIntent,
    int recommendedShards,
    int maxConcurrency,
    int maxGuildsPerShard) {
  public EngineConfig {
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(applicationId, "applicationId");
    Objects.requireNonNull(botUserId, "botUserId");
    Objects.requireNonNull(botUsername, "botUsername");
    guilds = List.copyOf(guilds);
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(awaitTimeout, "awaitTimeout");
    positive("recommendedShards", recommendedShards);
    positive("maxConcurrency", maxConcurrency);
    positive("maxGuildsPerShard", maxGuildsPerShard);
  }

  private static void positive(String field, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(field + " must be at least 1. Provided: " + value);
    }
  }
}
