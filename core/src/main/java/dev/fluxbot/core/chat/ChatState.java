package dev.fluxbot.core.chat;

import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.LeaderLock;
import dev.fluxbot.core.store.MessageGroups;
import dev.fluxbot.core.store.PendingForms;
import java.time.InstantSource;
import java.util.Objects;

/**
 * A chat platform's state that every bot instance on the database shares: who polls (a {@link
 * LeaderLock}), messages gathered into one command ({@link MessageGroups}), open forms ({@link
 * PendingForms}). On PostgreSQL several instances can serve one bot; on SQLite there is one.
 */
public final class ChatState {
  private final Database db;
  private final MessageGroups groups;
  private final PendingForms forms;

  public ChatState(Database db, InstantSource clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.groups = new MessageGroups(db, clock);
    this.forms = new PendingForms(db, clock);
  }

  /**
   * A leader lock named {@code name}, not yet taken; the caller closes it.
   *
   * @see Database#leaderLock
   */
  public LeaderLock leaderLock(String name) {
    return db.leaderLock(name);
  }

  public MessageGroups groups() {
    return groups;
  }

  public PendingForms forms() {
    return forms;
  }
}
