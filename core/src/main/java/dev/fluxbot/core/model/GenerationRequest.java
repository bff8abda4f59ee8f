package dev.fluxbot.core.model;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A normalized {@code /imagine}: what the parser made of a command, valid for its model.
 *
 * @param size the output size, or null while it is still to come from the first reference
 * @param hiRes {@code --res 2k}: already applied to {@code size} when that is known
 * @param seed the seed, or null until one is drawn (or taken from the user's last)
 * @param seedFromLast {@code --seed last}: the service fills {@code seed} from the user's history
 * @param steps flex only; null means the API's default
 * @param guidance flex only; null means the API's default
 * @param referenceCount how many reference images come with it (already checked against the model)
 */
public record GenerationRequest(
    ModelSpec model,
    String prompt,
    ImageSize size,
    boolean hiRes,
    Long seed,
    boolean seedFromLast,
    Integer steps,
    Double guidance,
    int safetyTolerance,
    ImageType format,
    int referenceCount,
    boolean noCache) {

  public static final long MAX_SEED = 4_294_967_295L;

  public GenerationRequest {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(format, "format");
    if (seed != null && (seed < 0 || seed > MAX_SEED)) {
      throw new IllegalArgumentException("seed out of range: " + seed);
    }
    if (safetyTolerance < 0 || safetyTolerance > 5) {
      throw new IllegalArgumentException("safetyTolerance out of range: " + safetyTolerance);
    }
    if (referenceCount < 0 || referenceCount > model.maxReferences()) {
      throw new IllegalArgumentException("referenceCount " + referenceCount + " for " + model.id());
    }
    if ((steps != null && !model.takesSteps()) || (guidance != null && !model.takesGuidance())) {
      throw new IllegalArgumentException(model.id() + " takes no steps or guidance");
    }
  }

  public GenerationRequest withSeed(long newSeed) {
    return new GenerationRequest(
        model,
        prompt,
        size,
        hiRes,
        newSeed,
        false,
        steps,
        guidance,
        safetyTolerance,
        format,
        referenceCount,
        noCache);
  }

  public GenerationRequest withSize(ImageSize newSize) {
    return new GenerationRequest(
        model,
        prompt,
        newSize,
        hiRes,
        seed,
        seedFromLast,
        steps,
        guidance,
        safetyTolerance,
        format,
        referenceCount,
        noCache);
  }

  public GenerationRequest withPrompt(String newPrompt) {
    return new GenerationRequest(
        model,
        newPrompt,
        size,
        hiRes,
        seed,
        seedFromLast,
        steps,
        guidance,
        safetyTolerance,
        format,
        referenceCount,
        noCache);
  }

  /**
   * The size once known, else the size it will most likely get (1 MP, or 2 MP at {@code 2k}), for
   * estimates made before the references are loaded.
   */
  public ImageSize sizeOrEstimate() {
    if (size != null) {
      return size;
    }
    return hiRes
        ? Sizes.twoK(AspectPreset.SQUARE_1_1.size(), model.sizeRules())
        : AspectPreset.SQUARE_1_1.size();
  }

  /** The estimated price in credits; references of unknown size count as 1 MP each. */
  public BigDecimal estimatedCost(List<ReferenceImage> references) {
    List<Long> inputs = new ArrayList<>();
    for (int i = 0; i < referenceCount; i++) {
      inputs.add(i < references.size() ? references.get(i).pixels() : ModelSpec.Price.MEGAPIXEL);
    }
    return model.price().estimate(sizeOrEstimate().pixels(), inputs);
  }

  /** For a chat's status line: "klein-4b, 1024×1024, seed 7". */
  public String summary() {
    return summary(java.util.Locale.ENGLISH);
  }

  /** {@link #summary()} in {@code locale}'s language. */
  public String summary(java.util.Locale locale) {
    return size() == null
        ? dev.fluxbot.core.Messages.format(
            locale, "request.summary.reference_size", model().id(), seed())
        : dev.fluxbot.core.Messages.format(
            locale,
            "request.summary",
            model().id(),
            size().width() + "×" + size().height(),
            seed());
  }
}
