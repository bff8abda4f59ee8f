package dev.fluxbot.telegram;

import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ImageReply.FollowUp;

/** Inline-button {@code callback_data} of the follow-up buttons, at most 64 bytes of UTF-8 as Telegram allows. */
public final class CallbackData {
  static final ActionRef.Carrier CARRIER = new ActionRef.Carrier("callback_data", 64, true);

  private CallbackData() {}

  public static String encode(FollowUp followUp, String jobId) {
    return new ActionRef(followUp, jobId).encode(CARRIER);
  }

  /** Reads callback_data back; anything but {@code fx:<followUpId>:<jobId>} is refused. */
  public static ActionRef decode(String data) {
    return ActionRef.decode(CARRIER, data);
  }
}
