package dev.fluxbot.core.store;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Messages that a chat platform delivers one by one but that make one command (the items of a
 * Telegram album), gathered in the database, so that items reaching different bot instances (a
 * webhook behind a load balancer) still make one group, run once.
 *
 * <p>Each instance {@link #add}s the items it receives and keeps the token it gets; once no item
 * came for the quiet period it {@link #claim}s the group with that token. Only the token of the
 * item added last claims, and only once: the claim and a late item's add take the group's row in
 * turn, so an item either joins the group before it is claimed or is told it came {@linkplain
 * Added#late late}. A claimed group's items stay for {@link #KEEP}, for {@link #recent}.
 *
 * <p>Payloads are the platform's own (JSON); nothing here logs them.
 */
public final class MessageGroups {
  /** How long a group is remembered after its last change. */
  public static final Duration KEEP = Duration.ofDays(2);

  private static final int PRUNE_EVERY = 256;

  /** Group keys and item ids longer than these are refused: platform ids are far shorter. */
  static final int MAX_KEY = 200;

  static final int MAX_ITEM = 100;

  /**
   * An item added.
   *
   * @param token what {@link #claim} takes: good while no later item came
   * @param late true when the group was claimed already: the item is remembered with it but runs on
   *     its own
   */
  public record Added(String token, boolean late) {}

  private final Database db;
  private final InstantSource clock;
  private final SecureRandom random = new SecureRandom();
  private final AtomicInteger sincePrune = new AtomicInteger();

  public MessageGroups(Database db, InstantSource clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Adds an item to the group {@code group} (created with its first item). The same item added
   * twice is kept once.
   *
   * @throws IllegalArgumentException when the key or the id is empty or too long
   * @throws Database.StoreException when the database fails
   */
  public Added add(String group, String itemId, String payload) {
    check("group", group, MAX_KEY);
    check("item id", itemId, MAX_ITEM);
    Objects.requireNonNull(payload, "payload");
    byte[] bytes = new byte[16];
    random.nextBytes(bytes);
    String token = HexFormat.of().formatHex(bytes);
    long now = clock.millis();
    if (sincePrune.incrementAndGet() % PRUNE_EVERY == 0) {
      prune(now - KEEP.toMillis());
    }
    boolean open =
        db.transaction(
            c -> {
              boolean joined = upsertGroup(c, group, token, now);
              try (PreparedStatement st =
                  c.prepareStatement(
                      "INSERT INTO chat_group_items (group_key, item_id, payload) VALUES (?, ?, ?)"
                          + " ON CONFLICT (group_key, item_id) DO NOTHING")) {
                st.setString(1, group);
                st.setString(2, itemId);
                st.setString(3, payload);
                st.executeUpdate();
              }
              return joined;
            });
    return new Added(token, !open);
  }

  /** Creates the group or names {@code token} its latest; false when it is claimed already. */
  private static boolean upsertGroup(Connection c, String group, String token, long now)
      throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            "INSERT INTO chat_groups (group_key, last_token, closed_at, touched_at)"
                + " VALUES (?, ?, NULL, ?) ON CONFLICT (group_key) DO UPDATE"
                + " SET last_token = excluded.last_token, touched_at = excluded.touched_at"
                + " WHERE chat_groups.closed_at IS NULL")) {
      st.setString(1, group);
      st.setString(2, token);
      st.setLong(3, now);
      return st.executeUpdate() > 0;
    }
  }

  /**
   * Claims the group for the caller if {@code token} is still its latest item's and no one claimed
   * it: its items' payloads, ordered by item id (as strings). Empty when a later item came or the
   * group was claimed.
   */
  public Optional<List<String>> claim(String group, String token) {
    long now = clock.millis();
    return db.transaction(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "UPDATE chat_groups SET closed_at = ?, touched_at = ?"
                      + " WHERE group_key = ? AND last_token = ? AND closed_at IS NULL")) {
            st.setLong(1, now);
            st.setLong(2, now);
            st.setString(3, group);
            st.setString(4, token);
            if (st.executeUpdate() == 0) {
              return Optional.empty();
            }
          }
          return Optional.of(items(c, group));
        });
  }

  /** The items of a claimed group seen within {@link #KEEP}; empty for an open or unknown one. */
  public Optional<List<String>> recent(String group) {
    return db.read(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT 1 FROM chat_groups WHERE group_key = ? AND closed_at IS NOT NULL")) {
            st.setString(1, group);
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
            }
          }
          return Optional.of(items(c, group));
        });
  }

  private static List<String> items(Connection c, String group) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            "SELECT payload FROM chat_group_items WHERE group_key = ? ORDER BY item_id")) {
      st.setString(1, group);
      List<String> payloads = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          payloads.add(rs.getString(1));
        }
      }
      return payloads;
    }
  }

  /** Forgets groups untouched since {@code before}, with their items. */
  void prune(long before) {
    db.transaction(
        c -> {
          try (PreparedStatement items =
                  c.prepareStatement(
                      "DELETE FROM chat_group_items WHERE group_key IN"
                          + " (SELECT group_key FROM chat_groups WHERE touched_at < ?)");
              PreparedStatement groups =
                  c.prepareStatement("DELETE FROM chat_groups WHERE touched_at < ?")) {
            items.setLong(1, before);
            items.executeUpdate();
            groups.setLong(1, before);
            return groups.executeUpdate();
          }
        });
  }

  private static void check(String what, String value, int max) {
    if (value == null || value.isEmpty() || value.length() > max) {
      throw new IllegalArgumentException(
          "message group "
              + what
              + ": must be 1 to "
              + max
              + " characters; got "
              + (value == null ? "nothing" : value.length() + " characters"));
    }
  }
}
