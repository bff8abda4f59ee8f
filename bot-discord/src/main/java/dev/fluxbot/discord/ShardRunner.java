package dev.fluxbot.discord;

import java.io.IOException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.dv8tion.jda.api.JDA;
import net.dv8tion.jda.api.events.session.ShutdownEvent;
import net.dv8tion.jda.api.exceptions.InvalidTokenException;
import net.dv8tion.jda.api.hooks.ListenerAdapter;
import net.dv8tion.jda.api.requests.CloseCode;
import net.dv8tion.jda.api.requests.GatewayIntent;
import net.dv8tion.jda.api.requests.RestConfig;
import net.dv8tion.jda.api.sharding.DefaultShardManagerBuilder;
import net.dv8tion.jda.api.sharding.ShardManager;
import net.dv8tion.jda.api.utils.Compression;
import net.dv8tion.jda.api.utils.ConcurrentSessionController;
import org.jspecify.annotations.NonNull;

/**
 * This instance's shards on JDA's {@link ShardManager}: logs in, waits until every shard it runs is
 * ready, and says clearly why Discord refused one (4010 Invalid shard, 4011 Sharding required). JDA
 * starts the shards one after another, as many at once as Discord's {@code max_concurrency} allows.
 */
final class ShardRunner implements AutoCloseable {
  private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(10);

  private final Shards plan;
  private final ShardManager manager;
  private final Map<Integer, CloseCode> closed;

  private ShardRunner(Shards plan, ShardManager manager, Map<Integer, CloseCode> closed) {
    this.plan = plan;
    this.manager = manager;
    this.closed = closed;
  }

  /**
   * Logs in (blocking for the first shard; the others connect in the background).
   *
   * @throws IllegalStateException with a clear message when Discord refuses the token or cannot be
   *     reached
   */
  static ShardRunner start(DiscordBot.Config config, Object listener) {
    reachable(config.restBaseUrl() != null ? config.restBaseUrl() : "https://discord.com/api/v10/");
    Map<Integer, CloseCode> closed = new ConcurrentHashMap<>();
    DefaultShardManagerBuilder builder =
        DefaultShardManagerBuilder.createLight(
                config.token().reveal(), EnumSet.noneOf(GatewayIntent.class))
            .setEventPassthrough(true)
            .addEventListeners( // first: JDA's event threads handle Discord's events alone
                (net.dv8tion.jda.api.hooks.EventListener)
                    event -> dev.fluxbot.core.LogContext.platform("discord"),
                listener,
                new CloseWatcher(closed))
            .setShardsTotal(config.shards().automatic() ? -1 : config.shards().total());
    if (!config.shards().ids().isEmpty()) {
      builder.setShards(config.shards().ids());
    }
    if (config.restBaseUrl() != null) {
      builder.setRestConfig(new RestConfig().setBaseUrl(config.restBaseUrl()));
    }
    if (config.gatewayUrl() != null) {
      builder
          .setCompression(Compression.NONE)
          .setSessionController(new FixedGateway(config.gatewayUrl()));
    }
    try {
      return new ShardRunner(config.shards(), builder.build(), closed);
    } catch (InvalidTokenException e) {
      throw new IllegalStateException(
          "Discord refused the bot token (FLUXBOT_DISCORD_TOKEN): "
              + e.getMessage()
              + ". Copy the token again from the Developer Portal (Bot → Reset Token).",
          e);
    } catch (RuntimeException e) {
      IOException network = networkCause(e);
      if (network == null) {
        throw e;
      }
      throw unreachable(network, "discord.com", e);
    }
  }

  /**
   * Connects once to Discord's REST host before JDA does: JDA's shard manager asks for the shard
   * count through its rate limiter, which logs a network failure as an ERROR with a stack trace
   * before the login fails; this says it in one line instead.
   */
  private static void reachable(String restBaseUrl) {
    java.net.URI uri = java.net.URI.create(restBaseUrl);
    int port = uri.getPort() != -1 ? uri.getPort() : "http".equals(uri.getScheme()) ? 80 : 443;
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.connect(new java.net.InetSocketAddress(uri.getHost(), port), 10_000);
    } catch (IOException e) {
      throw unreachable(e, uri.getHost(), e);
    }
  }

  private static IllegalStateException unreachable(IOException network, String host, Exception e) {
    return new IllegalStateException(
        dev.fluxbot.core.chat.Unreachable.message("Discord", "the login", network, host), e);
  }

  /**
   * The network failure behind a failed login (JDA wraps it in an ErrorResponseException); null if
   * none.
   */
  private static IOException networkCause(Throwable e) {
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (t instanceof IOException io) {
        return io;
      }
    }
    return null;
  }

  ShardManager manager() {
    return manager;
  }

  /** The bot's shards in all: the configured total, or Discord's recommendation. */
  int total() {
    return manager.getShardsTotal();
  }

  List<Integer> running() {
    return plan.running(total());
  }

  boolean runsShardZero() {
    return running().contains(0);
  }

  /** A shard of this instance, for REST calls and interaction webhooks, which need no shard. */
  JDA any() {
    return manager.getShards().stream()
        .filter(j -> j.getStatus() != JDA.Status.SHUTDOWN)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("No Discord shard is running"));
  }

  /**
   * Whether every shard this instance runs is connected now, from JDA's own status of each (no
   * I/O); a shard the manager has not built yet counts as connecting.
   */
  dev.fluxbot.core.chat.ChatConnection.Status connection() {
    List<Integer> ids = running();
    int connected = 0;
    boolean lost = false;
    for (int id : ids) {
      JDA shard = manager.getShardById(id);
      JDA.Status status = shard == null ? JDA.Status.INITIALIZING : shard.getStatus();
      if (status == JDA.Status.CONNECTED) {
        connected++;
      } else if (status == JDA.Status.SHUTDOWN
          || status == JDA.Status.FAILED_TO_LOGIN
          || status == JDA.Status.DISCONNECTED
          || status == JDA.Status.RECONNECT_QUEUED
          || status == JDA.Status.WAITING_TO_RECONNECT
          || status == JDA.Status.ATTEMPTING_TO_RECONNECT) {
        lost = true;
      }
    }
    String detail = connected + " of " + ids.size() + " shard(s) connected";
    if (connected == ids.size()) {
      return dev.fluxbot.core.chat.ChatConnection.Status.connected(detail);
    }
    return lost
        ? dev.fluxbot.core.chat.ChatConnection.Status.disconnected(detail)
        : dev.fluxbot.core.chat.ChatConnection.Status.connecting(detail);
  }

  /**
   * Waits until every shard this instance runs is connected.
   *
   * @throws IllegalStateException naming the shard and why, when Discord refused one
   */
  void awaitReady() throws InterruptedException {
    int total = total();
    for (int id : running()) {
      JDA shard;
      while ((shard = manager.getShardById(id)) == null) {
        Thread.sleep(20); // the manager builds the shards one after another
      }
      try {
        shard.awaitReady();
      } catch (IllegalStateException e) {
        // the shutdown's event, with its close code, may come just after the status
        for (int i = 0; i < 50 && !closed.containsKey(id); i++) {
          Thread.sleep(20);
        }
        throw new IllegalStateException(refusal(id, total, closed.get(id)), e);
      }
    }
  }

  private String refusal(int id, int total, CloseCode code) {
    String shard = "Discord refused shard " + id + " of " + total;
    if (code == CloseCode.SHARDING_REQUIRED) {
      return shard
          + " (4011 Sharding required): the bot is in more servers than "
          + total
          + " shard(s) can hold (2,500 each). Set discord.shards_total to auto, or to at least "
          + "the count Discord recommends, and share the shards among the instances again.";
    }
    if (code == CloseCode.INVALID_SHARD) {
      return shard
          + " (4010 Invalid shard). Check discord.shards_total and discord.shard_ids: every "
          + "instance must use the same total, and each id must be below it.";
    }
    return shard
        + (code == null ? "" : " (" + code.getCode() + " " + code.getMeaning() + ")")
        + " before it was ready; see the log above.";
  }

  @Override
  public void close() {
    List<JDA> shards = manager.getShards();
    manager.shutdown();
    try {
      for (JDA shard : shards) {
        if (!shard.awaitShutdown(SHUTDOWN_WAIT)) {
          shard.shutdownNow();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      shards.forEach(JDA::shutdownNow);
    }
  }

  /** Remembers the close code that ended a shard, for {@link #awaitReady}'s message. */
  private static final class CloseWatcher extends ListenerAdapter {
    private final Map<Integer, CloseCode> closed;

    CloseWatcher(Map<Integer, CloseCode> closed) {
      this.closed = closed;
    }

    @Override
    public void onShutdown(@NonNull ShutdownEvent event) {
      if (event.getCloseCode() != null) {
        closed.put(event.getJDA().getShardInfo().getShardId(), event.getCloseCode());
      }
    }
  }

  /**
   * The gateway at a configured URL instead of the one Discord names (a fake, a proxy); the shard
   * total and concurrency still come from {@code GET /gateway/bot}.
   */
  private static final class FixedGateway extends ConcurrentSessionController {
    private final String url;

    FixedGateway(String url) {
      this.url = url;
    }

    @Override
    public @NonNull String getGateway() {
      return url;
    }

    @Override
    public @NonNull ShardedGateway getShardedGateway(@NonNull JDA api) {
      ShardedGateway discord = super.getShardedGateway(api);
      return new ShardedGateway(url, discord.getShardTotal(), discord.getConcurrency());
    }
  }
}
