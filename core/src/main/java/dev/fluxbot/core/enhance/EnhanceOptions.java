package dev.fluxbot.core.enhance;

import java.util.Objects;

/**
 * How the core enhances prompts ({@code --enhance}).
 *
 * @param enhancer the endpoint's client, or null: enhancement is off, and {@code --enhance} is
 *     refused with a message that says how to turn it on
 * @param onByDefault whether a command that says nothing is enhanced where its scope's admin set no
 *     default (the config's {@code enhance.on_by_default})
 * @param maxPromptChars the longest enhanced prompt taken; a longer answer is not used
 * @param check what every prompt passes before it is sent (the word filters)
 */
public record EnhanceOptions(
    PromptEnhancer enhancer, boolean onByDefault, int maxPromptChars, PromptCheck check) {
  public static final EnhanceOptions OFF = new EnhanceOptions(null, false, 2000, PromptCheck.NONE);

  public EnhanceOptions {
    Objects.requireNonNull(check, "check");
    if (maxPromptChars < 1) {
      throw new IllegalArgumentException("maxPromptChars must be >= 1: " + maxPromptChars);
    }
  }

  public boolean on() {
    return enhancer != null;
  }

  public EnhanceOptions withCheck(PromptCheck newCheck) {
    return new EnhanceOptions(enhancer, onByDefault, maxPromptChars, newCheck);
  }
}
