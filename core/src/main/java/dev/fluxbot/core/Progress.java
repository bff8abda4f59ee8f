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
    return text(java.util.Locale.ENGLISH);
  }

  /**
   * The status line in {@code locale}'s language. A retry's detail is the backend's own words (in
   * English) after the translated "Retrying".
   */
  public String text(java.util.Locale locale) {
    String label =
        switch (stage) {
          case RETRYING ->
              detail.isEmpty()
                  ? Messages.format(locale, "progress.retrying")
                  : Messages.format(
                      locale,
                      "progress.retrying_because",
                      Character.toUpperCase(detail.charAt(0)) + detail.substring(1));
          default ->
              Messages.format(
                  locale, "progress." + stage.name().toLowerCase(java.util.Locale.ROOT));
        };
    return label
        + (Double.isNaN(fraction)
            ? "…"
            : String.format(java.util.Locale.ROOT, " %.0f%%…", fraction * 100));
  }
}
