package dev.fluxbot.core.chat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.ActionRef;
import dev.fluxbot.core.ImageReply.FollowUp;
import org.junit.jupiter.api.Test;

class ButtonPressTest {
  private static final ActionRef.Carrier CARRIER = new ActionRef.Carrier("custom_id", 100, false);
  private static final String JOB = "01KBZ3M7Q5J9V2W8X4Y6Z0A1B2";

  @Test
  void aPressIsReadTheSameWayOnEveryPlatform() {
    assertThat(ButtonPress.of(CARRIER, "someone-elses-button"))
        .isInstanceOf(ButtonPress.NotOurs.class);
    assertThat(ButtonPress.of(CARRIER, new ActionRef(FollowUp.REROLL, JOB).encode(CARRIER)))
        .isEqualTo(new ButtonPress.Run(new ActionRef(FollowUp.REROLL, JOB)));
    ButtonPress vary = ButtonPress.of(CARRIER, new ActionRef(FollowUp.VARY, JOB).encode(CARRIER));
    assertThat(vary).isInstanceOf(ButtonPress.AskForPrompt.class);
    assertThat(((ButtonPress.AskForPrompt) vary).vary()).isTrue();
    ButtonPress reference =
        ButtonPress.of(CARRIER, new ActionRef(FollowUp.USE_AS_REFERENCE, JOB).encode(CARRIER));
    assertThat(((ButtonPress.AskForPrompt) reference).prefill(null))
        .as("Use as reference starts with an empty prompt, without reading the job")
        .isEmpty();
  }
}
