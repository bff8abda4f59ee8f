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
    boolean messageContentIntent) {
  public EngineConfig {
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(applicationId, "applicationId");
    Objects.requireNonNull(botUserId, "botUserId");
    Objects.requireNonNull(botUsername, "botUsername");
    guilds = List.copyOf(guilds);
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(awaitTimeout, "awaitTimeout");
  }
}
