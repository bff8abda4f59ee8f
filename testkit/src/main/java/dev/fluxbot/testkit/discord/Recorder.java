package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.Await;
import dev.fluxbot.testkit.DiscordCallback;
import dev.fluxbot.testkit.DiscordMessage;
import dev.fluxbot.testkit.DiscordRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Everything the fake received and accepted, for tests to read and await; each record lands before
 * its response leaves, and a REST request's record is made under the same hold of the world's lock
 * as its effect.
 */
final class Recorder {
  private final ReentrantLock lock = new ReentrantLock();
  private final List<DiscordRequest> requests = new ArrayList<>();
  private final List<DiscordCallback> callbacks = new ArrayList<>();
  private final List<DiscordMessage> messages = new ArrayList<>();
  private final List<JsonNode> gatewayFrames = new ArrayList<>();

  void request(DiscordRequest request) {
    add(requests, request);
  }

  void callback(DiscordCallback callback) {
    add(callbacks, callback);
  }

  void message(DiscordMessage message) {
    add(messages, message);
  }

  void gatewayFrame(JsonNode frame) {
    add(gatewayFrames, frame);
  }

  List<DiscordRequest> requests() {
    return copy(requests);
  }

  List<DiscordCallback> callbacks() {
    return copy(callbacks);
  }

  List<DiscordMessage> messages() {
    return copy(messages);
  }

  List<JsonNode> gatewayFrames() {
    return copy(gatewayFrames).stream().<JsonNode>map(JsonNode::deepCopy).toList();
  }

  /**
   * Waits until {@code find} finds something in what was recorded, or throws with {@code what} and
   * a listing of the records that {@code listing} names. {@code find} runs without the lock held,
   * on a snapshot, so it may call back into the fake.
   */
  <T> T await(
      Function<Recorder, Optional<T>> find,
      Duration timeout,
      String what,
      Function<Recorder, List<?>> listing) {
    return Await.present(
        timeout, () -> find.apply(this), () -> failure(what, timeout, listing.apply(this)));
  }

  private String failure(String what, Duration timeout, List<?> recorded) {
    String records =
        recorded.isEmpty()
            ? " (none)"
            : recorded.stream().map(r -> "\n  " + r).collect(Collectors.joining());
    List<DiscordRequest> requests = requests();
    String recent =
        requests.subList(Math.max(0, requests.size() - 15), requests.size()).stream()
            .map(r -> "\n  " + r)
            .collect(Collectors.joining());
    return "No "
        + what
        + " within "
        + timeout.toMillis()
        + " ms. Recorded"
        + records
        + "\nLast REST requests ("
        + requests.size()
        + " in all):"
        + (recent.isEmpty() ? " (none)" : recent);
  }

  private <T> void add(List<T> list, T item) {
    lock.lock();
    try {
      list.add(item);
    } finally {
      lock.unlock();
    }
  }

  private <T> List<T> copy(List<T> list) {
    lock.lock();
    try {
      return List.copyOf(list);
    } finally {
      lock.unlock();
    }
  }
}
