package dev.fluxbot.core.enhance;

import dev.fluxbot.core.Requester;

/**
 * A check every prompt passes before it is sent anywhere (issue 18's word filters plug in here).
 * The enhancement step calls it on the prompt as typed, before it goes to the enhancer, and on the
 * enhanced prompt, before any credit is held.
 */
@FunctionalInterface
public interface PromptCheck {
  PromptCheck NONE = (who, prompt) -> {};

  /**
   * @throws dev.fluxbot.core.UserError when the prompt must not run
   */
  void check(Requester who, String prompt);
}
