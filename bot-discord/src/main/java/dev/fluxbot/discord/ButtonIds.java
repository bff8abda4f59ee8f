package dev.fluxbot.discord;

import dev.fluxbot.core.ImageReply.FollowUp;
import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;

/** Button {@code custom_id}s of the follow-up buttons: {@code fx:<followUpId>:<jobId>}, at most 100 characters. */
public final class ButtonIds {
  static final int MAX_LENGTH = 100; // Discord's custom_id limit
  private static final String PREFIX = "fx";

  private ButtonIds() {}

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
      throw new IllegalArgumentException("custom_id: at most " + MAX_LENGTH + " characters; got " + id.length()
          + " for job id " + quote(jobId));
    }
    return id;
  }

  /** Reads a custom_id back; anything but {@code fx:<followUpId>:<jobId>} is refused. */
  public static Pressed parse(String customId) {
    Objects.requireNonNull(customId, "customId");
    if (customId.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("custom_id: at most " + MAX_LENGTH + " characters; got " + customId.length());
    }
    String[] parts = customId.split(":", -1);
    if (parts.length != 3 || !parts[0].equals(PREFIX)) {
      throw new IllegalArgumentException("custom_id: expected fx:<followUpId>:<jobId>; got " + quote(customId));
    }
    return new Pressed(followUp(parts[1], customId), parts[2]);
  }

  private static FollowUp followUp(String id, String customId) {
    return Arrays.stream(FollowUp.values()).filter(f -> f.id().equals(id)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("custom_id: unknown follow-up " + quote(id) + " in "
            + quote(customId) + "; known: " + Arrays.stream(FollowUp.values()).map(FollowUp::id)
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
