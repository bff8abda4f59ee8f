package dev.fluxbot.telegram;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.store.MessageGroups;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.objects.message.Message;

/**
 * Gathers an album: Telegram sends each of its items as its own update sharing a {@code
 * media_group_id}, usually together but not always. The items are gathered in the database ({@link
 * MessageGroups}), so that behind a load balancer, where the items of one album reach different bot
 * instances, they still make one album: each instance waits {@code quiet} after each item it
 * received, and the instance that received the last item hands the album on, once, its items in
 * message order. An item that comes after its album was handed on goes on alone. Handed-on albums
 * are remembered for a while (by every instance), so a reply to one item of an album can use all of
 * it.
 */
final class Albums {
  // logs under TelegramBot's name, as the rest of the adapter
  private static final Logger log = LoggerFactory.getLogger(TelegramBot.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final Duration quiet;
  private final Sleeper waiter;
  private final MessageGroups groups;
  private final String scope;
  private final Consumer<List<Message>> complete;

  /**
   * @param waiter waits for more items to arrive over the network: a real wait ({@link
   *     Sleeper#SYSTEM}) in production
   * @param scope what sets this bot's albums apart from other bots' on the database: {@code
   *     telegram:<bot id>}
   */
  Albums(
      Duration quiet,
      Sleeper waiter,
      MessageGroups groups,
      String scope,
      Consumer<List<Message>> complete) {
    this.quiet = quiet;
    this.waiter = waiter;
    this.groups = groups;
    this.scope = scope;
    this.complete = complete;
  }

  void add(Message item) {
    String group = key(item.getMediaGroupId());
    MessageGroups.Added added;
    try {
      added =
          groups.add(group, Integer.toString(item.getMessageId()), JSON.writeValueAsString(item));
    } catch (JsonProcessingException | RuntimeException e) {
      log.warn(
          "telegram: could not keep an item of album {} ({}); the album may not run",
          item.getMediaGroupId(),
          e.getClass().getSimpleName() + ": " + e.getMessage());
      return;
    }
    if (added.late()) {
      complete.accept(List.of(item)); // its album ran already
      return;
    }
    Thread.ofVirtual()
        .name("telegram-album-" + item.getMediaGroupId())
        .start(() -> closeWhenQuiet(group, added.token()));
  }

  private void closeWhenQuiet(String group, String token) {
    try {
      waiter.sleep(quiet);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    Optional<List<Message>> items;
    try {
      items = groups.claim(group, token).map(Albums::parse);
    } catch (RuntimeException e) {
      log.warn("telegram: could not close album {} ({})", group, e.getMessage());
      return;
    }
    // empty: a later item restarted the wait (here or on another instance), or another took it
    items.filter(list -> !list.isEmpty()).ifPresent(complete);
  }

  /** A finished album seen lately, by any instance, in message order. */
  Optional<List<Message>> recent(String mediaGroupId) {
    return groups.recent(key(mediaGroupId)).map(Albums::parse);
  }

  private String key(String mediaGroupId) {
    return scope + ":" + mediaGroupId;
  }

  private static List<Message> parse(List<String> payloads) {
    List<Message> items = new ArrayList<>(payloads.size());
    for (String p : payloads) {
      try {
        items.add(JSON.readValue(p, Message.class));
      } catch (JsonProcessingException e) {
        log.warn("telegram: an album item in the database does not read as a message; skipped");
      }
    }
    items.sort(Comparator.comparing(Message::getMessageId));
    return List.copyOf(items);
  }
}
