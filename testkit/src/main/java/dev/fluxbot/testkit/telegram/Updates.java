package dev.fluxbot.testkit.telegram;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The update queue behind {@code getUpdates}, played as Telegram does: an update stays until a
 * later call's {@code offset} passes it; a call with nothing to send is held up to its {@code
 * timeout}; a new call ends the held one with 409 Conflict (one poller per bot).
 */
final class Updates {
  /** What a held call gets when a newer call replaces it. */
  static final String CONFLICT =
      "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final List<ObjectNode> pending = new ArrayList<>();
  private long nextId = 1;
  private long generation; // the newest poll; older held polls end with a conflict
  private boolean closed;
  private int held; // polls waiting for an update now

  /** Queues an update (the {@code update_id} is set here) and wakes the held poll. */
  long add(ObjectNode update) {
    lock.lock();
    try {
      long id = nextId++;
      ObjectNode withId = JsonNodeFactory.instance.objectNode().put("update_id", id);
      withId.setAll(update);
      pending.add(withId);
      changed.signalAll();
      return id;
    } finally {
      lock.unlock();
    }
  }

  /** Queues several updates with consecutive ids, delivered together (an album). */
  void addAll(List<ObjectNode> updates) {
    lock.lock();
    try {
      updates.forEach(this::add);
    } finally {
      lock.unlock();
    }
  }

  /**
   * One {@code getUpdates}: confirms everything below {@code offset}, then answers what is left (at
   * most {@code limit}) or waits up to {@code timeoutSeconds} for something.
   *
   * @return the updates, or null when a newer poll replaced this one (answer 409)
   */
  ArrayNode poll(long offset, int limit, int timeoutSeconds) throws InterruptedException {
    lock.lock();
    try {
      long mine = ++generation;
      changed.signalAll();
      if (offset > 0) {
        pending.removeIf(u -> u.path("update_id").asLong() < offset);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(0, timeoutSeconds));
      held++;
      try {
        while (pending.isEmpty() && !closed) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          changed.awaitNanos(left);
          if (generation != mine) {
            return null;
          }
        }
      } finally {
        held--;
      }
      ArrayNode out = JsonNodeFactory.instance.arrayNode();
      pending.stream().limit(Math.max(1, Math.min(100, limit))).forEach(u -> out.add(u.deepCopy()));
      return out;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The oldest update not yet delivered, waiting up to {@code maxWait} for one; null if none came.
   */
  ObjectNode first(long maxWaitNanos) throws InterruptedException {
    lock.lock();
    try {
      long deadline = System.nanoTime() + maxWaitNanos;
      while (pending.isEmpty() && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        changed.awaitNanos(left);
      }
      return pending.isEmpty() ? null : pending.get(0).deepCopy();
    } finally {
      lock.unlock();
    }
  }

  /** A webhook took the update: it is not sent again. */
  void delivered(long updateId) {
    lock.lock();
    try {
      pending.removeIf(u -> u.path("update_id").asLong() == updateId);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Wakes waiting polls and pushes (the webhook changed). */
  void nudge() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  boolean isClosed() {
    lock.lock();
    try {
      return closed;
    } finally {
      lock.unlock();
    }
  }

  /** {@code getUpdates} calls being held now, waiting for an update. */
  int heldPolls() {
    lock.lock();
    try {
      return held;
    } finally {
      lock.unlock();
    }
  }

  /** Updates not yet confirmed by an offset. */
  int pendingCount() {
    lock.lock();
    try {
      return pending.size();
    } finally {
      lock.unlock();
    }
  }

  /** Ends every held poll (empty answers), for shutdown. */
  void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
