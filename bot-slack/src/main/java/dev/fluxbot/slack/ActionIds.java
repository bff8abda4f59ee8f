package dev.fluxbot.slack;

import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ImageReply.FollowUp;

/**
 * Block Kit {@code action_id} (and button {@code value}) of the follow-up buttons, at most 255
 * characters as Slack allows.
 */
public final class ActionIds {
  static final ActionRef.Carrier CARRIER = new ActionRef.Carrier("action_id", 255, false);

  private ActionIds() {}

  public static String format(FollowUp followUp, String jobId) {
    return new ActionRef(followUp, jobId).encode(CARRIER);
  }

  /** Reads action_id back; anything but {@code fx:<followUpId>:<jobId>} is refused. */
  public static ActionRef parse(String actionId) {
    return ActionRef.decode(CARRIER, actionId);
  }
}
