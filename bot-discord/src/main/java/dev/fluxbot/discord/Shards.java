package dev.fluxbot.discord;

import java.util.List;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * Which of the bot's gateway shards this instance runs. Discord splits a bot's guilds over {@code
 * total} shards (a guild is on shard {@code (guild_id >> 22) % total}, direct messages on shard 0)
 * and requires more than one past 2,500 guilds; instances of one bot each run some of them.
 *
 * @param total the bot's shards in all; 0 for automatic: Discord's recommendation ({@code GET
 *     /gateway/bot})
 * @param ids the shards this instance runs, ascending; empty for all of them
 */
public record Shards(int total, List<Integer> ids) {
  /** One instance that runs as many shards as Discord recommends: the default. */
  public static final Shards AUTOMATIC = new Shards(0, List.of());

  public Shards {
    if (total < 0) {
      throw new IllegalArgumentException(
          "The shard total must be at least 1, or 0 for automatic; got " + total);
    }
    TreeSet<Integer> sorted = new TreeSet<>(ids);
    if (sorted.size() != ids.size()) {
      throw new IllegalArgumentException("Shard ids must not repeat; got " + ids);
    }
    if (total == 0 && !sorted.isEmpty()) {
      throw new IllegalArgumentException(
          "Shard ids "
              + sorted
              + " need a shard total: which shards are this instance's depends on how many there are");
    }
    for (int id : sorted) {
      if (id < 0 || id >= total) {
        throw new IllegalArgumentException(
            "Shard id " + id + " is outside 0.." + (total - 1) + " (" + total + " shards in all)");
      }
    }
    ids = List.copyOf(sorted);
  }

  /** All {@code total} shards on this instance. */
  public static Shards all(int total) {
    if (total < 1) {
      throw new IllegalArgumentException("The shard total must be at least 1; got " + total);
    }
    return new Shards(total, List.of());
  }

  public boolean automatic() {
    return total == 0;
  }

  /** The shards this instance runs, once the total is known (Discord's, when automatic). */
  List<Integer> running(int actualTotal) {
    return ids.isEmpty() ? IntStream.range(0, actualTotal).boxed().toList() : ids;
  }

  /** {@code 0-3}, {@code 0, 2} or {@code 1}: shard ids as a person reads them. */
  static String describe(List<Integer> ids) {
    boolean consecutive = ids.size() > 2 && ids.getLast() - ids.getFirst() == ids.size() - 1;
    return consecutive
        ? ids.getFirst() + "-" + ids.getLast()
        : String.join(", ", ids.stream().map(String::valueOf).toList());
  }
}
