package dev.fluxbot.core.store;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Which jobs make one answer ({@code /imagine … --n 4}): each image is a job of its own, and this
 * keeps their order under one group id (the first job's id), so a restart can finish and deliver an
 * unfinished group once. A job that is no group's member has no row.
 */
public final class JobGroups {
  /** A group's jobs in order; {@code jobIds.get(0)} is the group's id. */
  public record Group(String groupId, List<String> jobIds) {
    public Group {
      Objects.requireNonNull(groupId, "groupId");
      jobIds = List.copyOf(jobIds);
    }

    public int size() {
      return jobIds.size();
    }

    /** The job's position in the group, from 0. */
    public int indexOf(String jobId) {
      return jobIds.indexOf(jobId);
    }
  }

  private final Database db;

  public JobGroups(JobStore jobs) {
    this.db = jobs.database();
  }

  /**
   * Records the group (inside the caller's transaction, if any); a group of one job records
   * nothing.
   */
  public void create(List<String> jobIds) {
    if (jobIds.size() < 2) {
      return;
    }
    String groupId = jobIds.get(0);
    db.transaction(
        c -> {
          for (int i = 0; i < jobIds.size(); i++) {
            try (var st =
                c.prepareStatement(
                    "INSERT INTO job_groups (job_id, group_id, group_index, group_size)"
                        + " VALUES (?, ?, ?, ?)")) {
              JobStore.bind(st, new Object[] {jobIds.get(i), groupId, i, jobIds.size()});
              st.executeUpdate();
            }
          }
          return null;
        });
  }

  /** The group the job belongs to; empty for a job made alone. */
  public Optional<Group> of(String jobId) {
    return db.read(
        c -> {
          List<Object[]> rows =
              JobLeases.rows(
                  c,
                  "SELECT g.job_id FROM job_groups g WHERE g.group_id ="
                      + " (SELECT group_id FROM job_groups WHERE job_id = ?) ORDER BY g.group_index",
                  jobId);
          if (rows.isEmpty()) {
            return Optional.empty();
          }
          List<String> ids = new ArrayList<>();
          rows.forEach(r -> ids.add((String) r[0]));
          return Optional.of(new Group(ids.get(0), ids));
        });
  }

  /**
   * How many of the job's group mates (not itself) are running: a group runs together, counted as
   * one unit against a user's cap.
   */
  static long runningMates(java.sql.Connection c, String jobId) throws SQLException {
    return JobLeases.count(
        c,
        "SELECT count(*) FROM job_groups g JOIN jobs j ON j.id = g.job_id"
            + " WHERE j.state = 'RUNNING' AND g.job_id <> ? AND g.group_id ="
            + " (SELECT group_id FROM job_groups WHERE job_id = ?)",
        jobId,
        jobId);
  }
}
