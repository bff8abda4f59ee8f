package dev.fluxbot.core;

import java.util.Objects;

/**
 * What {@code --enhance} did to a job's prompt, shown with its image.
 *
 * @param original the prompt as the user typed it
 * @param enhanced what the enhancer made of it (the prompt actually sent), or null when it failed
 * @param enhancer the enhancer's model, e.g. {@code llama3.2:3b}
 * @param note why the enhancement failed, one line; null when it worked
 */
public record Enhancement(String original, String enhanced, String enhancer, String note) {
  public Enhancement {
    Objects.requireNonNull(original, "original");
    Objects.requireNonNull(enhancer, "enhancer");
    if ((enhanced == null) == (note == null)) {
      throw new IllegalArgumentException("an enhancement has either a new prompt or a note");
    }
  }

  public static Enhancement enhanced(String original, String enhanced, String enhancer) {
    return new Enhancement(original, enhanced, enhancer, null);
  }

  public static Enhancement failed(String original, String enhancer, String note) {
    return new Enhancement(original, null, enhancer, note);
  }

  /** Whether the image was made from the enhanced prompt. */
  public boolean worked() {
    return enhanced != null;
  }
}
