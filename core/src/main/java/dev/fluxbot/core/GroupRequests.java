package dev.fluxbot.core;

import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.model.GenerationRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The one place where a command becomes the ordered list of requests its answer shows ({@code
 * --n}): image i (from 0) gets seed s + i, wrapping past the largest seed to 0. Every other
 * expansion of a command into several images (prompt variants, {@code --repeat}) belongs here too,
 * so that the group the pipeline runs is always made from this list.
 */
public final class GroupRequests {
  private GroupRequests() {}

  /**
   * @param seeded the parsed request with its seed set (typed, drawn or the user's last)
   * @param n how many images, 1 to {@link CommandParser#MAX_N}
   */
  public static List<GenerationRequest> of(GenerationRequest seeded, int n) {
    Objects.requireNonNull(seeded, "seeded");
    if (seeded.seed() == null) {
      throw new IllegalArgumentException("the request needs its seed before it is expanded");
    }
    if (n < 1 || n > CommandParser.MAX_N) {
      throw new IllegalArgumentException("n must be 1.." + CommandParser.MAX_N + ": " + n);
    }
    List<GenerationRequest> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(seeded.withSeed(seedAfter(seeded.seed(), i)));
    }
    return List.copyOf(out);
  }

  /** {@code seed + i}, wrapping past {@link GenerationRequest#MAX_SEED} to 0. */
  static long seedAfter(long seed, int i) {
    return (seed + i) % (GenerationRequest.MAX_SEED + 1);
  }
}
