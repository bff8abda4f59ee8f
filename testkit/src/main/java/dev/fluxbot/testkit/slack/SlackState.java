package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.Await;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The fake workspace's state and its records, behind one lock: messages, files, views, trigger ids,
 * response URLs, envelope acks and every call. A Web API call's effect and its record are made
 * under one hold of the lock, before its answer leaves.
 */
final class SlackState {
  /** A file as uploading goes: announced, bytes posted, then shared. */
  static final class FileEntry {
    final String id;
    final String name;
    final long declaredLength;
    final String user;
    String title;
    String mimetype;
    byte[] bytes;
    String channel;
    String threadTs;
    String initialComment;

    FileEntry(String id, String name, long declaredLength, String user) {
      this.id = id;
      this.name = name;
      this.declaredLength = declaredLength;
      this.user = user;
    }
  }

  /** A response_url: Slack takes at most five posts to it within 30 minutes. */
  static final class ResponseUrl {
    final Instant issued;
    final List<JsonNode> posts = new ArrayList<>();

    ResponseUrl(Instant issued) {
      this.issued = issued;
    }
  }

  record RateLimit(int remaining, int retryAfterSeconds) {}

  /**
   * An app's ack of an envelope: what it answered, and how long after the envelope was sent (fake
   * clock).
   */
  record Ack(JsonNode payload, Duration after) {}

  private final ReentrantLock lock = new ReentrantLock();
  private final Duration awaitTimeout;
  final Map<String, SlackUser> users = new LinkedHashMap<>();
  final List<String> channels = new ArrayList<>();
  final java.util.Set<String> botAbsent =
      new java.util.HashSet<>(); // channels the bot is not a member of
  final Map<String, SlackMessage> messages = new LinkedHashMap<>(); // channel/ts → newest version
  final List<SlackMessage> ephemerals = new ArrayList<>();
  final Map<String, FileEntry> files = new LinkedHashMap<>();
  final Map<String, SlackView> views = new LinkedHashMap<>();
  final Map<String, Instant> triggers = new HashMap<>(); // issued, not yet used
  final Map<String, String> triggerUsers = new HashMap<>(); // trigger id → the user's id
  final Map<String, ResponseUrl> responseUrls = new HashMap<>();
  final Map<String, Ack> acks = new LinkedHashMap<>();
  final Map<String, Instant> sent = new HashMap<>(); // envelope id → when it went to the app
  final List<SlackCall> calls = new ArrayList<>();
  final Map<String, RateLimit> rateLimits = new HashMap<>();
  private long sequence;

  SlackState(Duration awaitTimeout) {
    this.awaitTimeout = awaitTimeout;
  }

  /** Runs {@code change} under the lock. */
  <T> T update(Supplier<T> change) {
    return read(change);
  }

  void run(Runnable change) {
    update(
        () -> {
          change.run();
          return null;
        });
  }

  <T> T read(Supplier<T> read) {
    lock.lock();
    try {
      return read.get();
    } finally {
      lock.unlock();
    }
  }

  /** A number unique in this fake, for ids and timestamps. */
  long next() {
    return update(() -> ++sequence);
  }

  /**
   * Waits until {@code find} answers, at most the await timeout.
   *
   * @throws AssertionError naming what was awaited and listing {@code seen} instead
   */
  <T> T await(String what, Supplier<Optional<T>> find, Supplier<Object> seen) {
    return Await.present(
        awaitTimeout,
        () -> read(find),
        () ->
            read(
                () ->
                    "FakeSlack: no "
                        + what
                        + " within "
                        + awaitTimeout
                        + "; recorded: "
                        + seen.get()));
  }
}
