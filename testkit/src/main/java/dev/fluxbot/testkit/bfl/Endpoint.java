package dev.fluxbot.testkit.bfl;

import java.math.BigDecimal;
import java.util.Optional;

/**
 * The FLUX.2 submit endpoints and their prices (bfl-api.md); previews are priced as their models.
 */
enum Endpoint {
  KLEIN_4B("flux-2-klein-4b", "1.4", "0.1"),
  KLEIN_9B("flux-2-klein-9b", "1.5", "0.2"),
  KLEIN_9B_PREVIEW("flux-2-klein-9b-preview", "1.5", "0.2"),
  PRO("flux-2-pro", "3", "1.5"),
  PRO_PREVIEW("flux-2-pro-preview", "3", "1.5"),
  MAX("flux-2-max", "7", "3"),
  FLEX("flux-2-flex", "5", "5");

  private final String slug;
  private final BigDecimal firstMegapixel;
  private final BigDecimal furtherMegapixel;

  Endpoint(String slug, String firstMegapixel, String furtherMegapixel) {
    this.slug = slug;
    this.firstMegapixel = new BigDecimal(firstMegapixel);
    this.furtherMegapixel = new BigDecimal(furtherMegapixel);
  }

  String slug() {
    return slug;
  }

  String path() {
    return "/v1/" + slug;
  }

  static Optional<Endpoint> ofPath(String path) {
    for (Endpoint e : values()) {
      if (e.path().equals(path)) return Optional.of(e);
    }
    return Optional.empty();
  }

  /** First output MP, plus each further output MP and each input MP at the second rate. */
  BigDecimal cost(long outputMegapixels, long inputMegapixels) {
    long further = Math.max(0, outputMegapixels - 1) + inputMegapixels;
    return firstMegapixel.add(furtherMegapixel.multiply(BigDecimal.valueOf(further)));
  }

  /** Megapixels as BFL bills them: 1024² pixels, rounded up. */
  static long megapixels(long pixels) {
    long mp = 1024L * 1024L;
    return Math.max(1, (pixels + mp - 1) / mp);
  }
}
