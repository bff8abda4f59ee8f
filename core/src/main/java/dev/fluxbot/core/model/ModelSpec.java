package dev.fluxbot.core.model;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Objects;

/**
 * One FLUX.2 model as the catalog describes it.
 *
 * @param endpoint the BFL submit path, e.g. {@code /v1/flux-2-pro}
 * @param preview a preview endpoint: its weights change, so its images are never cached
 * @param local the local klein runtime can serve it
 * @param steps the accepted {@code --steps}, or null where the model takes none
 * @param guidance the accepted {@code --guidance}, or null where the model takes none
 * @param firstPoll how long BFL typically takes to make it: when its first poll is due (null: the
 *     BFL backend's poll interval)
 */
public record ModelSpec(
    String id,
    List<String> aliases,
    String endpoint,
    int maxReferences,
    boolean preview,
    boolean local,
    Price price,
    SizeRules sizeRules,
    Range steps,
    Range guidance,
    java.time.Duration firstPoll) {

  public ModelSpec {
    Objects.requireNonNull(id, "id");
    aliases = List.copyOf(aliases);
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(price, "price");
    Objects.requireNonNull(sizeRules, "sizeRules");
    if (!endpoint.startsWith("/")) {
      throw new IllegalArgumentException("endpoint must start with '/': " + endpoint);
    }
    if (maxReferences < 0) {
      throw new IllegalArgumentException("maxReferences must be >= 0: " + maxReferences);
    }
  }

  public boolean takesSteps() {
    return steps != null;
  }

  public boolean takesGuidance() {
    return guidance != null;
  }

  /** An inclusive range of a numeric option, with the value the API uses when it is absent. */
  public record Range(double min, double max, double defaultValue) {
    public Range {
      if (!(min <= defaultValue && defaultValue <= max)) {
        throw new IllegalArgumentException(
            "need min <= default <= max: " + min + ", " + defaultValue + ", " + max);
      }
    }

    public boolean contains(double value) {
      return value >= min && value <= max;
    }
  }

  /** Output sizes a model accepts: sides in [minSide, maxSide], multiples of {@code multiple}. */
  public record SizeRules(int minSide, int multiple, int maxSide, long maxPixels) {
    public SizeRules {
      if (minSide <= 0 || multiple <= 0 || maxSide < minSide || maxPixels <= 0) {
        throw new IllegalArgumentException(
            "bad size rules: " + minSide + ", " + multiple + ", " + maxSide + ", " + maxPixels);
      }
    }
  }

  /**
   * Credits per megapixel (1 credit = $0.01). A megapixel is 1024² pixels, rounded up, as BFL
   * appears to count.
   */
  public record Price(BigDecimal firstMp, BigDecimal furtherMp, BigDecimal inputMp) {
    public static final long MEGAPIXEL = 1024L * 1024L;

    public Price {
      Objects.requireNonNull(firstMp, "firstMp");
      Objects.requireNonNull(furtherMp, "furtherMp");
      Objects.requireNonNull(inputMp, "inputMp");
    }

    /**
     * The estimate for one output of {@code outputPixels} and references of the given pixel counts.
     */
    public BigDecimal estimate(long outputPixels, List<Long> inputPixels) {
      long outMp = Math.max(1, megapixelsRoundedUp(outputPixels));
      BigDecimal total = firstMp.add(furtherMp.multiply(BigDecimal.valueOf(outMp - 1)));
      for (long px : inputPixels) {
        total = total.add(inputMp.multiply(BigDecimal.valueOf(megapixelsRoundedUp(px))));
      }
      BigDecimal rounded = total.setScale(2, RoundingMode.HALF_UP).stripTrailingZeros();
      return rounded.scale() < 0 ? rounded.setScale(0) : rounded; // 10, not 1E+1
    }

    static long megapixelsRoundedUp(long pixels) {
      return (pixels + MEGAPIXEL - 1) / MEGAPIXEL;
    }
  }
}
