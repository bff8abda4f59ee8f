package dev.fluxbot.telegram;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.fluxbot.core.ImageReply.FollowUp;
import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Inline-button {@code callback_data} of the follow-up buttons: {@code fx:<followUpId>:<jobId>},
 * at most 64 bytes of UTF-8 as Telegram allows. Clients can send any callback_data, so decoding
 * refuses everything else.
 */
public final class CallbackData {
  static final int MAX_BYTES = 64; // Telegram's callback_data limit
  private static final String PREFIX = "fx";

  private CallbackData() {}

  /** A pressed button: which follow-up, on which job. */
  public record Pressed(FollowUp followUp, String jobId) {
    public Pressed {
      Objects.requireNonNull(followUp, "followUp");
      checkJobId(jobId);
    }
  }

  public static String encode(FollowUp followUp, String jobId) {
    String data = PREFIX + ":" + Objects.requireNonNull(followUp, "followUp").id() + ":" + checkJobId(jobId);
    int bytes = data.getBytes(UTF_8).length;
    if (bytes > MAX_BYTES) {
      throw new IllegalArgumentException("callback_data: at most " + MAX_BYTES + " bytes (UTF-8); got " + bytes
          + " for job id " + quote(jobId));
    }
    return data;
  }

  public static Pressed decode(String data) {
    Objects.requireNonNull(data, "data");
    int bytes = data.getBytes(UTF_8).length;
    if (bytes > MAX_BYTES) {
      throw new IllegalArgumentException("callback_data: at most " + MAX_BYTES + " bytes (UTF-8); got " + bytes);
    }
    String[] parts = data.split(":", -1);
    if (parts.length != 3 || !parts[0].equals(PREFIX)) {
      throw new IllegalArgumentException("callback_data: expected fx:<followUpId>:<jobId>; got " + quote(data));
    }
    return new Pressed(followUp(parts[1], data), parts[2]);
  }

  private static FollowUp followUp(String id, String data) {
    return Arrays.stream(FollowUp.values()).filter(f -> f.id().equals(id)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("callback_data: unknown follow-up " + quote(id) + " in "
            + quote(data) + "; known: " + Arrays.stream(FollowUp.values()).map(FollowUp::id)
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
