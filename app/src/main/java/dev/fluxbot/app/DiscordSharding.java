package dev.fluxbot.app;

import dev.fluxbot.discord.Shards;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code discord.shards_total} and {@code discord.shard_ids} (or {@code
 * FLUXBOT_DISCORD_SHARDS_TOTAL} and {@code FLUXBOT_DISCORD_SHARD_IDS}, which win): which of the
 * bot's gateway shards this instance runs. A broken rule is an {@link IllegalArgumentException}
 * that names where the value came from, the rule and the value.
 */
final class DiscordSharding {
  static final String AUTO = "auto";
  static final String ALL = "all";

  /** More than Discord's largest bots run; it keeps a mistyped total from starting that many. */
  static final int MAX_TOTAL = 100_000;

  private static final Pattern ID_OR_RANGE = Pattern.compile("(\\d{1,6})(?:\\s*-\\s*(\\d{1,6}))?");

  private DiscordSharding() {}

  /** The shards of the config with the environment's overrides. */
  static Shards shards(Environment env, FluxbotConfig.Discord discord) {
    String totalFrom = "discord.shards_total";
    String total = discord.shardsTotal();
    if (env.get(Environment.DISCORD_SHARDS_TOTAL).isPresent()) {
      totalFrom = Environment.DISCORD_SHARDS_TOTAL;
      total = env.get(Environment.DISCORD_SHARDS_TOTAL).get();
    }
    String idsFrom = "discord.shard_ids";
    String ids = discord.shardIds();
    if (env.get(Environment.DISCORD_SHARD_IDS).isPresent()) {
      idsFrom = Environment.DISCORD_SHARD_IDS;
      ids = env.get(Environment.DISCORD_SHARD_IDS).get();
    }
    return parse(total, totalFrom, ids, idsFrom);
  }

  /**
   * @param total {@code auto} or a whole number of shards, 1 or more
   * @param ids {@code all}, or ids and ranges separated by commas: {@code 0,1}, {@code 0-3}
   * @param totalFrom and {@code idsFrom}: where each came from, for the messages
   */
  static Shards parse(String total, String totalFrom, String ids, String idsFrom) {
    int count = total(total.strip(), totalFrom);
    String list = ids.strip();
    if (list.equalsIgnoreCase(ALL)) {
      return count == 0 ? Shards.AUTOMATIC : Shards.all(count);
    }
    if (count == 0) {
      throw new IllegalArgumentException(
          idsFrom
              + ": shard ids need "
              + totalFrom
              + " set to the bot's number of shards in all (the same on every instance), not "
              + AUTO
              + "; got shard ids \""
              + list
              + "\". Set both, or leave both out for one instance that runs every shard");
    }
    return new Shards(count, ids(list, idsFrom, count));
  }

  private static int total(String text, String from) {
    if (text.equalsIgnoreCase(AUTO)) {
      return 0;
    }
    int n = text.matches("\\d{1,9}") ? Integer.parseInt(text) : -1;
    if (n < 1 || n > MAX_TOTAL) {
      throw new IllegalArgumentException(
          from
              + ": must be "
              + AUTO
              + " (as many shards as Discord recommends) or a whole number from 1 to "
              + MAX_TOTAL
              + "; got \""
              + text
              + "\"");
    }
    return n;
  }

  private static List<Integer> ids(String list, String from, int total) {
    TreeSet<Integer> ids = new TreeSet<>();
    for (String part : list.split(",", -1)) {
      Matcher m = ID_OR_RANGE.matcher(part.strip());
      if (!m.matches()) {
        throw new IllegalArgumentException(
            from
                + ": \""
                + part.strip()
                + "\" is not a shard id or a range; write ids and ranges separated by commas, "
                + "like 0,1 or 0-3 (or "
                + ALL
                + "); got \""
                + list
                + "\"");
      }
      int low = Integer.parseInt(m.group(1));
      int high = m.group(2) == null ? low : Integer.parseInt(m.group(2));
      if (high < low) {
        throw new IllegalArgumentException(
            from
                + ": the range "
                + part.strip()
                + " runs backwards; write it low-high, like "
                + high
                + "-"
                + low
                + "; got \""
                + list
                + "\"");
      }
      if (high >= total) {
        throw new IllegalArgumentException(
            from
                + ": shard "
                + high
                + " is outside 0.."
                + (total - 1)
                + ", as the bot has "
                + total
                + " shard(s) in all; got \""
                + list
                + "\"");
      }
      for (int id = low; id <= high; id++) {
        if (!ids.add(id)) {
          throw new IllegalArgumentException(
              from + ": shard " + id + " is listed twice; got \"" + list + "\"");
        }
      }
    }
    return List.copyOf(ids);
  }
}
