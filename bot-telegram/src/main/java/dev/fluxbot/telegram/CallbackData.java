package dev.fluxbot.telegram;

import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ImageReply.FollowUp;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Inline-button {@code callback_data} of the buttons under an image, at most 64 bytes of UTF-8 as
 * Telegram allows: the core's follow-ups as {@code fx:<followUpId>:<jobId>}, and Telegram's own
 * "Original as file" as {@code fx:file:<jobId>}. Each carries only the job id, so a button works
 * after a restart.
 */
public final class CallbackData {
  static final ActionRef.Carrier CARRIER = new ActionRef.Carrier("callback_data", 64, true);
  private static final String ORIGINAL = "fx:file:";

  private CallbackData() {}

  public static String encode(FollowUp followUp, String jobId) {
    return new ActionRef(followUp, jobId).encode(CARRIER);
  }

  /** Reads callback_data back; anything but {@code fx:<followUpId>:<jobId>} is refused. */
  public static ActionRef decode(String data) {
    return ActionRef.decode(CARRIER, data);
  }

  /** The "Original as file" button's data for a job. */
  public static String encodeOriginal(String jobId) {
    new ActionRef(FollowUp.REROLL, jobId); // checks the job id's form
    String data = ORIGINAL + jobId;
    int bytes = data.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > CARRIER.maxLength()) {
      throw new IllegalArgumentException(
          "callback_data: at most 64 bytes (UTF-8); got " + bytes + " for job id " + jobId);
    }
    return data;
  }

  /** The job of an "Original as file" button; empty for any other data. */
  public static Optional<String> originalJobId(String data) {
    if (data == null || !data.startsWith(ORIGINAL)) {
      return Optional.empty();
    }
    String jobId = data.substring(ORIGINAL.length());
    try {
      encodeOriginal(jobId);
      return Optional.of(jobId);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
