package dev.fluxbot.telegram;

import dev.fluxbot.core.Sleeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.telegram.telegrambots.meta.api.objects.message.Message;

/**
 * Gathers an album: Telegram sends each of its items as its own update sharing a {@code
 * media_group_id}, usually together but not always. A group is handed on once no new item came for
 * {@code quiet}, its items in message order. The last few groups are remembered, so a reply to one
 * item of an album can use all of it.
 */
final class Albums {
  static final int REMEMBERED = 256;

  private final Duration quiet;
  private final Sleeper waiter;
  private final Consumer<List<Message>> complete;
  private final ReentrantLock lock = new ReentrantLock();
  private final Map<String, List<Message>> open = new LinkedHashMap<>();
  private final Map<String, Long> generation = new LinkedHashMap<>();
  private final Map<String, List<Message>> recent =
      new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, List<Message>> eldest) {
          return size() > REMEMBERED;
        }
      };
  private long counter;

  /**
   * @param waiter waits for more items to arrive over the network: a real wait ({@link
   *     Sleeper#SYSTEM}) in production
   */
  Albums(Duration quiet, Sleeper waiter, Consumer<List<Message>> complete) {
    this.quiet = quiet;
    this.waiter = waiter;
    this.complete = complete;
  }

  void add(Message item) {
    String group = item.getMediaGroupId();
    long mine;
    lock.lock();
    try {
      open.computeIfAbsent(group, g -> new ArrayList<>()).add(item);
      mine = ++counter;
      generation.put(group, mine);
    } finally {
      lock.unlock();
    }
    Thread.ofVirtual().name("telegram-album-" + group).start(() -> closeWhenQuiet(group, mine));
  }

  private void closeWhenQuiet(String group, long mine) {
    try {
      waiter.sleep(quiet);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    List<Message> items;
    lock.lock();
    try {
      if (generation.getOrDefault(group, -1L) != mine) {
        return; // a later item restarted the wait
      }
      generation.remove(group);
      items = open.remove(group);
      items.sort(Comparator.comparing(Message::getMessageId));
      recent.put(group, List.copyOf(items));
    } finally {
      lock.unlock();
    }
    complete.accept(items);
  }

  /** A finished album seen lately, in message order. */
  Optional<List<Message>> recent(String mediaGroupId) {
    lock.lock();
    try {
      return Optional.ofNullable(recent.get(mediaGroupId));
    } finally {
      lock.unlock();
    }
  }
}
