package dev.fluxbot.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.slack.api.bolt.request.Request;
import com.slack.api.bolt.request.builtin.BlockActionRequest;
import com.slack.api.bolt.request.builtin.EventRequest;
import com.slack.api.bolt.request.builtin.MessageShortcutRequest;
import com.slack.api.bolt.request.builtin.SlashCommandRequest;
import com.slack.api.bolt.request.builtin.ViewSubmissionRequest;
import dev.fluxbot.core.store.DeliveryLog;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What Slack has already delivered. Slack sends an event again, with the same {@code event_id},
 * when its ack was lost or late (at once, after a minute, after five), and an interaction that
 * comes twice carries the same {@code trigger_id}: each is run once. The ids are kept for {@link
 * #LIFE}: in this process (at most {@link #MAX}, by the bot rather than by its connection, so a
 * Socket Mode reconnect keeps them) and in the database's {@link DeliveryLog}, so a restart in
 * between does not run a resent event again.
 */
final class Deliveries {
  /** Longer than Slack's last retry (about five minutes after the first delivery). */
  static final Duration LIFE = Duration.ofHours(1);

  static final int MAX = 100_000;

  private final InstantSource clock;
  private final DeliveryLog durable;
  private final LinkedHashMap<String, Instant> expiries = new LinkedHashMap<>(); // oldest first

  Deliveries(InstantSource clock, DeliveryLog durable) {
    this.clock = clock;
    this.durable = durable;
  }

  /**
   * True the first time {@code key} is seen within {@link #LIFE}, here or before a restart; false
   * for a repeat.
   */
  boolean first(String key) {
    return firstHere(key) && durable.first("slack " + key);
  }

  /** True the first time this process sees {@code key} within {@link #LIFE}. */
  synchronized boolean firstHere(String key) {
    Instant now = clock.instant();
    for (Iterator<Map.Entry<String, Instant>> it = expiries.entrySet().iterator(); it.hasNext(); ) {
      if (it.next().getValue().isAfter(now)) {
        break; // inserted in time order, so the rest are newer
      }
      it.remove();
    }
    if (expiries.containsKey(key)) {
      return false;
    }
    if (expiries.size() >= MAX) {
      expiries.remove(expiries.keySet().iterator().next()); // a flood: the oldest goes first
    }
    expiries.put(key, now.plus(LIFE));
    return true;
  }

  /**
   * What makes {@code request} one delivery: an event's {@code event_id}, an interaction's {@code
   * trigger_id}; else null.
   */
  static String key(Request<?> request) {
    return switch (request) {
      case EventRequest e -> named("event ", eventId(e.getRequestBodyAsString()));
      case SlashCommandRequest r -> named("trigger ", r.getPayload().getTriggerId());
      case BlockActionRequest r -> named("trigger ", r.getPayload().getTriggerId());
      case MessageShortcutRequest r -> named("trigger ", r.getPayload().getTriggerId());
      case ViewSubmissionRequest r -> named("trigger ", r.getPayload().getTriggerId());
      default -> null;
    };
  }

  private static String named(String kind, String id) {
    return id == null || id.isEmpty() ? null : kind + id;
  }

  private static String eventId(String body) {
    try {
      JsonNode id = SlackBot.JSON.readTree(body).path("event_id");
      return id.isTextual() ? id.asText() : null;
    } catch (IOException e) {
      return null;
    }
  }
}
