package dev.fluxbot.core.model;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Objects;

/**
 * A finished image.
 *
 * @param cost credits the backend charged, as it reported them; null where it did not say
 * @param taskId the backend's own id for the task (BFL's task id), for support requests
 */
public record GenerationResult(
    byte[] image,
    ImageType type,
    int width,
    int height,
    long seed,
    BigDecimal cost,
    String backend,
    String taskId,
    Duration elapsed) {
  public GenerationResult {
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(elapsed, "elapsed");
  }

  /** The same image with another cost: what the user was charged, for the caption. */
  public GenerationResult withCost(BigDecimal newCost) {
    return new GenerationResult(
        image, type, width, height, seed, newCost, backend, taskId, elapsed);
  }

  @Override
  public String toString() {
    return "GenerationResult["
        + type
        + " "
        + width
        + "x"
        + height
        + ", seed "
        + seed
        + ", cost "
        + cost
        + ", "
        + backend
        + " "
        + taskId
        + ", "
        + image.length
        + " bytes, "
        + elapsed.toMillis()
        + " ms]";
  }
}
