package dev.fluxbot.discord;

import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ImageReply.FollowUp;

/** Button {@code custom_id}s of the follow-up buttons, at most 100 characters as Discord allows. */
public final class ButtonIds {
  static final ActionRef.Carrier CARRIER = new ActionRef.Carrier("custom_id", 100, false);

  private ButtonIds() {}

  public static String format(FollowUp followUp, String jobId) {
    return new ActionRef(followUp, jobId).encode(CARRIER);
  }

  /** Reads custom_id back; anything but {@code fx:<followUpId>:<jobId>} is refused. */
  public static ActionRef parse(String customId) {
    return ActionRef.decode(CARRIER, customId);
  }
}
