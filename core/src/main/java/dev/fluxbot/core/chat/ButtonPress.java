package dev.fluxbot.core.chat;

import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ImageReply.FollowUp;
import dev.fluxbot.core.store.JobStore;

/**
 * What a press of a button under an image asks for, the same on every platform: not one of ours (an
 * old or foreign button), a prompt first (Vary, Use as reference), or a follow-up job at once.
 */
public sealed interface ButtonPress {
  /** In English; {@link #notOurs(java.util.Locale)} in the presser's language. */
  String NOT_OURS = notOurs(java.util.Locale.ENGLISH);

  /** The answer to a press of a button that is not fluxbot's (or is from an older version). */
  static String notOurs(java.util.Locale locale) {
    return "⚠️ " + dev.fluxbot.core.Messages.format(locale, "chat.button.not_ours");
  }

  /** Reads a button's data as the platform's carrier holds it. */
  static ButtonPress of(ActionRef.Carrier carrier, String data) {
    ActionRef ref;
    try {
      ref = ActionRef.decode(carrier, data);
    } catch (IllegalArgumentException e) {
      return new NotOurs();
    }
    return ref.followUp() == FollowUp.VARY || ref.followUp() == FollowUp.USE_AS_REFERENCE
        ? new AskForPrompt(ref)
        : new Run(ref);
  }

  /** A button fluxbot did not make (or no longer reads): answered with {@link #NOT_OURS}. */
  record NotOurs() implements ButtonPress {}

  /** Vary or Use as reference: ask the presser for a prompt, then run the follow-up with it. */
  record AskForPrompt(ActionRef ref) implements ButtonPress {
    public boolean vary() {
      return ref.followUp() == FollowUp.VARY;
    }

    /** What the prompt field starts with: Vary edits the job's prompt; the other starts empty. */
    public String prefill(JobStore jobs) {
      return vary() ? jobs.find(ref.jobId()).map(j -> j.request().prompt()).orElse("") : "";
    }
  }

  /** Reroll, upscale and the like: run the follow-up now. */
  record Run(ActionRef ref) implements ButtonPress {}
}
