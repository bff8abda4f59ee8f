package dev.fluxbot.core;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.fluxbot.core.ImageReply.FollowUp;
import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What a follow-up button carries: {@code fx:<followUpId>:<jobId>}. Every platform puts it in its
 * own field (Discord's {@code custom_id}, Telegram's {@code callback_data}, Slack's {@code
 * action_id}) with its own length limit, described by a {@link Carrier}. Clients can send any data
 * back, so decoding refuses everything else.
 */
public record ActionRef(FollowUp followUp, String jobId) {
  private static final String PREFIX = "fx";

  public ActionRef {
    Objects.requireNonNull(followUp, "followUp");
    checkJobId(jobId);
  }

  /**
   * A platform's field for button data.
   *
   * @param countsBytes the limit is in UTF-8 bytes (Telegram), not characters
   */
  public record Carrier(String field, int maxLength, boolean countsBytes) {
    public Carrier {
      Objects.requireNonNull(field, "field");
      if (maxLength < 1) {
        throw new IllegalArgumentException("maxLength must be >= 1: " + maxLength);
      }
    }

    int measure(String data) {
      return countsBytes ? data.getBytes(UTF_8).length : data.length();
    }

    String limit() {
      return field + ": at most " + maxLength + (countsBytes ? " bytes (UTF-8)" : " characters");
    }
  }

  /** The data for this button, checked against the carrier's limit. */
  public String encode(Carrier carrier) {
    String data = PREFIX + ":" + followUp.id() + ":" + jobId;
    int length = carrier.measure(data);
    if (length > carrier.maxLength()) {
      throw new IllegalArgumentException(
          carrier.limit() + "; got " + length + " for job id " + Text.quote(jobId));
    }
    return data;
  }

  /**
   * Reads button data back; anything but {@code fx:<followUpId>:<jobId>} within the limit is
   * refused.
   */
  public static ActionRef decode(Carrier carrier, String data) {
    Objects.requireNonNull(data, "data");
    int length = carrier.measure(data);
    if (length > carrier.maxLength()) {
      throw new IllegalArgumentException(carrier.limit() + "; got " + length);
    }
    String[] parts = data.split(":", -1);
    if (parts.length != 3 || !parts[0].equals(PREFIX)) {
      throw new IllegalArgumentException(
          carrier.field() + ": expected fx:<followUpId>:<jobId>; got " + Text.quote(data));
    }
    FollowUp followUp =
        FollowUp.byId(parts[1])
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        carrier.field()
                            + ": unknown follow-up "
                            + Text.quote(parts[1])
                            + " in "
                            + Text.quote(data)
                            + "; known: "
                            + Arrays.stream(FollowUp.values())
                                .map(FollowUp::id)
                                .collect(Collectors.joining(", "))));
    return new ActionRef(followUp, parts[2]);
  }

  private static void checkJobId(String jobId) {
    Objects.requireNonNull(jobId, "jobId");
    if (jobId.isEmpty() || !jobId.chars().allMatch(c -> c < 128 && Character.isLetterOrDigit(c))) {
      throw new IllegalArgumentException(
          "job id: must be 1 or more ASCII letters and digits; got " + Text.quote(jobId));
    }
  }
}
