package dev.fluxbot.core;

import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.command.PromptVariants;
import dev.fluxbot.core.model.GenerationRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The one place where a command becomes the ordered list of requests its answer shows: each prompt
 * variant ({@code a {red, blue} fox}, see {@link PromptVariants}) in order, and for each variant
 * {@code --repeat × --n} images whose seeds are s, s+1, … (wrapping past the largest seed to 0), so
 * that variants differ only in their words. At most {@value PromptVariants#MAX_IMAGES} in all.
 */
public final class GroupRequests {
  private GroupRequests() {}

  /**
   * @param seeded the parsed request with its seed set (typed, drawn or the user's last)
   * @param n how many images, 1 to {@link CommandParser#MAX_N}
   */
  public static List<GenerationRequest> of(GenerationRequest seeded, int n) {
    return of(seeded, n, 1);
  }

  /**
   * @param seeded the parsed request with its seed set (typed, drawn or the user's last)
   * @param n how many images of each prompt variant and repeat, 1 to {@link CommandParser#MAX_N}
   * @param repeat {@code --repeat}, 1 to {@link PromptVariants#MAX_REPEAT}
   * @throws UserError for a bad variant or more than {@value PromptVariants#MAX_IMAGES} images
   */
  public static List<GenerationRequest> of(GenerationRequest seeded, int n, int repeat) {
    Objects.requireNonNull(seeded, "seeded");
    if (seeded.seed() == null) {
      throw new IllegalArgumentException("the request needs its seed before it is expanded");
    }
    if (n < 1 || n > CommandParser.MAX_N) {
      throw new IllegalArgumentException("n must be 1.." + CommandParser.MAX_N + ": " + n);
    }
    List<GenerationRequest> out = new ArrayList<>();
    for (String prompt : PromptVariants.expand(seeded.prompt(), repeat, n)) {
      GenerationRequest variant =
          prompt.equals(seeded.prompt()) ? seeded : seeded.withPrompt(prompt);
      for (int i = 0; i < n * repeat; i++) {
        out.add(variant.withSeed(seedAfter(seeded.seed(), i)));
      }
    }
    return List.copyOf(out);
  }

  /** {@code seed + i}, wrapping past {@link GenerationRequest#MAX_SEED} to 0. */
  static long seedAfter(long seed, int i) {
    return (seed + i) % (GenerationRequest.MAX_SEED + 1);
  }
}
