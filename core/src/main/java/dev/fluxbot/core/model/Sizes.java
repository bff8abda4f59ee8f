package dev.fluxbot.core.model;

/** Size arithmetic of the grammar: ratios at about 1 MP, {@code --res 2k}, {@code --size}. */
public final class Sizes {
  public static final long ONE_MP = 1024L * 1024L;

  /** The widest ratio {@code --ar} accepts, either way round. */
  public static final int MAX_RATIO = 4;

  private Sizes() {}

  /**
   * About 1 MP at w:h, or the preset's size where w:h is a preset's ratio. Checked by the caller.
   */
  public static ImageSize ofRatio(long w, long h, ModelSpec.SizeRules rules) {
    var preset = AspectPreset.byRatio(w, h);
    if (preset.isPresent()) {
      return preset.get().size();
    }
    double width = Math.sqrt(ONE_MP * (double) w / h);
    double height = width * h / w;
    return fit(width, height, rules);
  }

  /** Doubles both sides; where one would pass the side limit, both shrink together. */
  public static ImageSize twoK(ImageSize size, ModelSpec.SizeRules rules) {
    return fit(size.width() * 2.0, size.height() * 2.0, rules);
  }

  /** Scales w×h down (ratio kept) to fit the side and pixel limits, then rounds to the multiple. */
  public static ImageSize fit(double w, double h, ModelSpec.SizeRules rules) {
    double scale = Math.min(1.0, rules.maxSide() / Math.max(w, h));
    scale = Math.min(scale, Math.sqrt(rules.maxPixels() / (w * h)));
    int width = roundDown(w * scale, rules);
    int height = roundDown(h * scale, rules);
    return new ImageSize(width, height);
  }

  /** Nearest multiple, but never past what the scale allowed, nor under the minimum side. */
  private static int roundDown(double v, ModelSpec.SizeRules rules) {
    int m = rules.multiple();
    int nearest = (int) Math.round(v / m) * m;
    if (nearest > v + 1e-9 && nearest > rules.maxSide()) {
      nearest -= m;
    }
    return Math.max(rules.minSide(), Math.min(nearest, rules.maxSide()));
  }

  /** Rounds a requested side to the nearest multiple (at least the minimum side). */
  public static int roundSide(long v, ModelSpec.SizeRules rules) {
    int m = rules.multiple();
    long nearest = Math.round((double) v / m) * m;
    return (int) Math.max(rules.minSide(), Math.min(nearest, Integer.MAX_VALUE - m));
  }
}
