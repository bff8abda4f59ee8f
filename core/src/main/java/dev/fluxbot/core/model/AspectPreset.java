package dev.fluxbot.core.model;

import java.util.Locale;
import java.util.Optional;

/**
 * The ten size presets of the klein product page, at 1k. Each answers to its name and its ratio.
 */
public enum AspectPreset {
  SQUARE_1_1(1, 1, 1024, 1024),
  WIDESCREEN_16_9(16, 9, 1344, 768),
  SOCIAL_STORY_9_16(9, 16, 768, 1344),
  PORTRAIT_2_3(2, 3, 832, 1216),
  TRADITIONAL_3_4(3, 4, 960, 1280),
  VERTICAL_1_2(1, 2, 704, 1408),
  HORIZONTAL_2_1(2, 1, 1408, 704),
  SOCIAL_POST_4_5(4, 5, 896, 1152),
  STANDARD_3_2(3, 2, 1216, 832),
  CLASSIC_4_3(4, 3, 1280, 960);

  private final int ratioW;
  private final int ratioH;
  private final ImageSize size;

  AspectPreset(int ratioW, int ratioH, int width, int height) {
    this.ratioW = ratioW;
    this.ratioH = ratioH;
    this.size = new ImageSize(width, height);
  }

  /** The lower-case name users type: {@code widescreen_16_9}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The nominal ratio, {@code 16:9}. */
  public String ratio() {
    return ratioW + ":" + ratioH;
  }

  /** The 1k size. */
  public ImageSize size() {
    return size;
  }

  public static Optional<AspectPreset> byId(String id) {
    String n = id.trim().toLowerCase(Locale.ROOT);
    for (AspectPreset p : values()) {
      if (p.id().equals(n)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** The preset whose nominal ratio equals w:h once reduced (so 32:18 finds 16:9). */
  public static Optional<AspectPreset> byRatio(long w, long h) {
    for (AspectPreset p : values()) {
      if (w * p.ratioH == h * p.ratioW) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
