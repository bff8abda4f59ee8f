package dev.fluxbot.core;

import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import java.util.List;
import java.util.Objects;

/**
 * A delivered image and what to show with it.
 *
 * @param request the request as run: its seed and size are set
 * @param cached true when it came from the seed cache (then it cost nothing)
 * @param actions the follow-up buttons to offer
 * @param enhancement what {@code --enhance} did to the prompt, or null where it was not asked for
 */
public record ImageReply(
    String jobId,
    GenerationRequest request,
    GenerationResult result,
    boolean cached,
    List<FollowUp> actions,
    Enhancement enhancement) {
  public ImageReply {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(result, "result");
    actions = List.copyOf(actions);
  }

  /** An image whose prompt was not enhanced. */
  public ImageReply(
      String jobId,
      GenerationRequest request,
      GenerationResult result,
      boolean cached,
      List<FollowUp> actions) {
    this(jobId, request, result, cached, actions, null);
  }

  /** The same image with what {@code --enhance} did to its prompt. */
  public ImageReply withEnhancement(Enhancement e) {
    return new ImageReply(jobId, request, result, cached, actions, e);
  }

  /**
   * The buttons under an image; {@link ActionRef} carries one with its job as {@code
   * fx:<id>:<jobId>}.
   */
  public enum FollowUp {
    REROLL("reroll", "Reroll"),
    VARY("vary", "Vary"),
    UPSCALE_2K("2k", "2K"),
    USE_AS_REFERENCE("ref", "Use as reference");

    private final String id;
    private final String label;

    FollowUp(String id, String label) {
      this.id = id;
      this.label = label;
    }

    public String id() {
      return id;
    }

    public String label() {
      return label;
    }

    /** The button's label in {@code locale}'s language ("Reroll", "Neu würfeln"). */
    public String label(java.util.Locale locale) {
      return Messages.format(locale, "button." + id);
    }

    public static java.util.Optional<FollowUp> byId(String id) {
      for (FollowUp f : values()) {
        if (f.id.equals(id)) {
          return java.util.Optional.of(f);
        }
      }
      return java.util.Optional.empty();
    }
  }
}
