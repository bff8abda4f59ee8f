package dev.fluxbot.slack;

import dev.fluxbot.core.ImageReply.FollowUp;
import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Block Kit {@code action_id} (and button {@code value}) of the follow-up buttons:
 * {@code fx:<followUpId>:<jobId>}, at most 255 characters as Slack allows for an action_id.
 */
public final class ActionIds {
  static final int MAX_LENGTH = 255; // Slack's action_id limit (a button value may be 2000)
  private static final String PREFIX = "fx";

  private ActionIds() {}

  /** A pressed button: which follow-up, on which job. */
  public record Pressed(FollowUp followUp, String jobId) {
    public Pressed {
      Objects.requireNonNull(followUp, "followUp");
      checkJobId(jobId);
    }
  }

  public static String format(FollowUp followUp, String jobId) {
    String id = PREFIX + ":" + Objects.requireNonNull(followUp, "followUp").id() + ":" + checkJobId(jobId);
    if (id.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("action_id: at most " + MAX_LENGTH + " characters; got " + id.length()
          + " for job id " + quote(jobId));
    }
    return id;
  }

  public static Pressed parse(String actionId) {
    Objects.requireNonNull(actionId, "actionId");
    if (actionId.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("action_id: at most " + MAX_LENGTH + " characters; got " + actionId.length());
    }
    String[] parts = actionId.split(":", -1);
    if (parts.length != 3 || !parts[0].equals(PREFIX)) {
      throw new IllegalArgumentException("action_id: expected fx:<followUpId>:<jobId>; got " + quote(actionId));
    }
    return new Pressed(followUp(parts[1], actionId), parts[2]);
  }

  private static FollowUp followUp(String id, String actionId) {
    return Arrays.stream(FollowUp.values()).filter(f -> f.id().equals(id)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("action_id: unknown follow-up " + quote(id) + " in "
            + quote(actionId) + "; known: " + Arrays.stream(FollowUp.values()).map(FollowUp::id)
            .collect(Collectors.joining(", "))));
  }

  private static String checkJobId(String jobId) {
    Objects.requireNonNull(jobId, "jobId");
    if (jobId.isEmpty() || !jobId.chars().allMatch(c -> c < 128 && Character.isLetterOrDigit(c))) {
      throw new IllegalArgumentException("job id: must be 1 or more ASCII letters and digits; got " + quote(jobId));
    }
    return jobId;
  }

  private static String quote(String value) {
    return "\"" + (value.length() > 60 ? value.substring(0, 60) + "…" : value) + "\"";
  }
}
