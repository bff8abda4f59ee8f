package dev.fluxbot.core;

import java.util.Objects;

/**
 * How far a job has come.
 *
 * @param fraction 0..1, or NaN where the backend does not say
 * @param detail a short word for the user ("Pending", "waiting for a free BFL slot"); never secret
 */
public record Progress(Stage stage, double fraction, String detail) {
  public enum Stage {
    /** {@code --enhance}: an OpenAI-compatible endpoint rewrites the prompt before the job runs. */
    ENHANCING,
    WAITING_FOR_SLOT,
    SUBMITTED,
    QUEUED,
    REASONING,
    GENERATING,
    DOWNLOADING,
    /**
     * The backend lost the job (a local worker died, or was full) and runs it again; the detail
     * says why.
     */
    RETRYING
  }

  public Progress {
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(detail, "detail");
    if (!Double.isNaN(fraction) && (fraction < 0 || fraction > 1)) {
      throw new IllegalArgumentException("fraction must be in 0..1 or NaN: " + fraction);
    }
  }

  public static Progress of(Stage stage, String detail) {
    return new Progress(stage, Double.NaN, detail);
  }

  /** For a chat's status line: "Generating 40%…", "Reasoning about the prompt…". */
  public String text() {
    String label =
        switch (stage) {
          case ENHANCING -> "Enhancing the prompt";
          case WAITING_FOR_SLOT -> "Waiting for a free slot";
          case SUBMITTED -> "Submitted";
          case QUEUED -> "Queued at the backend";
          case REASONING -> "Reasoning about the prompt";
          case GENERATING -> "Generating";
          case DOWNLOADING -> "Almost there";
          case RETRYING ->
              detail.isEmpty()
                  ? "Retrying"
                  : Character.toUpperCase(detail.charAt(0)) + detail.substring(1);
        };
    return label
        + (Double.isNaN(fraction)
            ? "…"
            : String.format(java.util.Locale.ROOT, " %.0f%%…", fraction * 100));
  }
}
