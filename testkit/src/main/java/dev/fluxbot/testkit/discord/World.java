package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The fake's state: messages, interactions, DM channels, commands, CDN files and scripted failures.
 * Every field is guarded by {@link #lock}; no I/O happens while it is held.
 */
final class World {
  /** A file on the CDN. */
  record CdnFile(byte[] bytes, String contentType) {}

  /**
   * A scripted answer for the next request that matches a route (and uploads files, where {@code
   * uploadsOnly}).
   */
  record Scripted(RouteTemplate route, Reply reply, boolean uploadsOnly) {}

  /**
   * Latency scripted for the next request that matches a route: it is held this long before it is
   * processed.
   */
  record Delay(RouteTemplate route, Duration delay) {}

  final EngineConfig config;
  final Snowflakes ids;
  final InstantSource clock;
  final Guilds guilds;
  final Shapes shapes;
  final ReentrantLock lock = new ReentrantLock();

  final Map<String, ObjectNode> messages = new HashMap<>();
  final Map<String, Issued> interactionsById = new HashMap<>();
  final Map<String, Issued> interactionsByToken = new HashMap<>();
  final Map<String, String> dmChannelByUser = new HashMap<>();
  final Map<String, String> dmUserByChannel = new HashMap<>();

  /** Registered commands: scope ("" for global, else a guild id) → "type:name" → command. */
  final Map<String, Map<String, ObjectNode>> commands = new HashMap<>();

  final Map<String, String> commandIds = new HashMap<>();
  final Map<String, CdnFile> cdn = new HashMap<>();
  final Deque<Scripted> scripted = new ArrayDeque<>();
  final Deque<Delay> delays = new ArrayDeque<>();
  long attachmentSizeLimit;
  String baseUrl;

  World(EngineConfig config) {
    this.config = config;
    this.ids = new Snowflakes();
    this.clock = config.clock();
    this.guilds = new Guilds(config.guilds(), config.botUserId(), config.botUsername(), ids);
    this.shapes = new Shapes(guilds, config.botUserId());
    this.attachmentSizeLimit = config.attachmentSizeLimit();
  }

  <T> T locked(Supplier<T> action) {
    lock.lock();
    try {
      return action.get();
    } finally {
      lock.unlock();
    }
  }

  void locked(Runnable action) {
    locked(
        () -> {
          action.run();
          return null;
        });
  }

  /** The user's DM channel with the bot, opened on first use. Call with the lock held. */
  String dmChannel(String userId) {
    return dmChannelByUser.computeIfAbsent(
        userId,
        u -> {
          String channelId = ids.next();
          dmUserByChannel.put(channelId, u);
          return channelId;
        });
  }

  /**
   * A guild text channel or an open DM channel, as {@code GET /channels/{id}} answers it. Lock
   * held.
   */
  Optional<ObjectNode> channel(String channelId) {
    Optional<Guilds.Guild> guild = guilds.guildOfChannel(channelId);
    if (guild.isPresent()) return Optional.of(shapes.textChannel(guild.get(), channelId));
    String userId = dmUserByChannel.get(channelId);
    return userId == null ? Optional.empty() : Optional.of(shapes.dmChannel(channelId, userId));
  }

  /** The id a command keeps across registrations, as on Discord. Lock held. */
  String commandId(String scope, String key) {
    return commandIds.computeIfAbsent(scope + "/" + key, k -> ids.next());
  }

  Map<String, ObjectNode> commands(String scope) {
    return commands.computeIfAbsent(scope, s -> new LinkedHashMap<>());
  }

  /** The first scripted answer for this request, taken off the queue. Lock held. */
  Optional<Reply> takeScripted(String method, String route, boolean uploads) {
    for (var it = scripted.iterator(); it.hasNext(); ) {
      Scripted s = it.next();
      if (s.route().matches(method, route) && (uploads || !s.uploadsOnly())) {
        it.remove();
        return Optional.of(s.reply());
      }
    }
    return Optional.empty();
  }

  /**
   * How long to hold this request before processing it, taken off the queue; zero when none is
   * scripted. Lock held.
   */
  Duration takeDelay(String method, String route) {
    for (var it = delays.iterator(); it.hasNext(); ) {
      Delay d = it.next();
      if (d.route().matches(method, route)) {
        it.remove();
        return d.delay();
      }
    }
    return Duration.ZERO;
  }
}
