package dev.fluxbot.core.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Objects;
import java.util.Optional;

/**
 * Backends' calls back (BFL's webhook bodies) that reached another instance than the one whose job
 * waits for them, kept in that job's row ({@code jobs.backend_call}) until the owner reads them.
 */
public final class BackendCalls {
  private final Database db;

  public BackendCalls(Database db) {
    this.db = Objects.requireNonNull(db, "db");
  }

  /**
   * Keeps a call for the queued or running job that waits for task {@code taskId}, whichever
   * instance owns it; false when no such job exists.
   */
  public boolean keep(String taskId, String body) {
    return db.transaction(
            c -> {
              try (PreparedStatement st =
                  c.prepareStatement(
                      "UPDATE jobs SET backend_call = ? WHERE task_id = ?"
                          + " AND state IN ('QUEUED', 'RUNNING')")) {
                st.setString(1, body);
                st.setString(2, taskId);
                return st.executeUpdate();
              }
            })
        > 0;
  }

  /** The call kept for task {@code taskId}, if any. */
  public Optional<String> kept(String taskId) {
    return db.read(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT backend_call FROM jobs WHERE task_id = ? AND backend_call IS NOT NULL")) {
            st.setString(1, taskId);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
            }
          }
        });
  }
}
