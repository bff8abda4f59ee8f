package dev.fluxbot.core.seedcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fluxbot.core.imagestore.Hashes;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.ImageSize;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelSpec;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FingerprintTest {
  private static final String REF_A = "a".repeat(64);
  private static final String REF_B = "0123456789abcdef".repeat(4);

  private static ModelSpec model(String id, String endpoint) {
    return new ModelSpec(
        id,
        List.of(),
        endpoint,
        8,
        false,
        false,
        new ModelSpec.Price(BigDecimal.ONE, BigDecimal.ONE, BigDecimal.ONE),
        new ModelSpec.SizeRules(64, 16, 2048, 4L << 20),
        new ModelSpec.Range(1, 50, 50),
        new ModelSpec.Range(1.5, 10, 5),
        null);
  }

  private static final ModelSpec FLEX = model("flex", "/v1/flux-2-flex");

  /**
   * The request every test varies: flex, 1024x768, seed 42, 28 steps, guidance 4.5, safety 2, PNG,
   * one reference.
   */
  private record R(
      ModelSpec model,
      String prompt,
      ImageSize size,
      Long seed,
      Integer steps,
      Double guidance,
      int safety,
      ImageType format,
      List<String> refs) {
    static R base() {
      return new R(
          FLEX,
          "a red fox in snow",
          new ImageSize(1024, 768),
          42L,
          28,
          4.5,
          2,
          ImageType.PNG,
          List.of(REF_A));
    }

    GenerationRequest request() {
      return new GenerationRequest(
          model,
          prompt,
          size,
          false,
          seed,
          false,
          steps,
          guidance,
          safety,
          format,
          refs.size(),
          false);
    }

    String fingerprint() {
      return SeedCache.fingerprint(request(), refs);
    }

    R model(ModelSpec m) {
      return new R(m, prompt, size, seed, steps, guidance, safety, format, refs);
    }

    R prompt(String p) {
      return new R(model, p, size, seed, steps, guidance, safety, format, refs);
    }

    R size(int w, int h) {
      return new R(model, prompt, new ImageSize(w, h), seed, steps, guidance, safety, format, refs);
    }

    R seed(Long s) {
      return new R(model, prompt, size, s, steps, guidance, safety, format, refs);
    }

    R steps(Integer s) {
      return new R(model, prompt, size, seed, s, guidance, safety, format, refs);
    }

    R guidance(Double g) {
      return new R(model, prompt, size, seed, steps, g, safety, format, refs);
    }

    R safety(int s) {
      return new R(model, prompt, size, seed, steps, guidance, s, format, refs);
    }

    R format(ImageType f) {
      return new R(model, prompt, size, seed, steps, guidance, safety, f, refs);
    }

    R withRefs(String... hashes) {
      return new R(model, prompt, size, seed, steps, guidance, safety, format, List.of(hashes));
    }
  }

  /**
   * Pinned: computed once, and again by hand from the encoding in Python. A change here empties
   * every cache.
   */
  @Test
  void aFixedRequestGivesAFixedKnownFingerprint() {
    assertThat(R.base().fingerprint())
        .isEqualTo("20fb9fdd9d99d1ffe259277f831992e10ccd0678773c7f3d6c8f0abee235defa");
  }

  @Test
  void everyInputChangesTheFingerprint() {
    R base = R.base();
    Map<String, String> variants = new LinkedHashMap<>();
    variants.put("base", base.fingerprint());
    variants.put("model id", base.model(model("flex-b", "/v1/flux-2-flex")).fingerprint());
    variants.put("endpoint", base.model(model("flex", "/v1/flux-2-flex-b")).fingerprint());
    variants.put("prompt", base.prompt("a red fox in snow.").fingerprint());
    variants.put("width", base.size(1040, 768).fingerprint());
    variants.put("height", base.size(1024, 784).fingerprint());
    variants.put("width and height swapped", base.size(768, 1024).fingerprint());
    variants.put("seed", base.seed(43L).fingerprint());
    variants.put("steps", base.steps(29).fingerprint());
    variants.put("no steps", base.steps(null).fingerprint());
    variants.put("guidance", base.guidance(4.6).fingerprint());
    variants.put("no guidance", base.guidance(null).fingerprint());
    variants.put("safety", base.safety(3).fingerprint());
    variants.put("format", base.format(ImageType.JPEG).fingerprint());
    variants.put("another reference", base.withRefs(REF_B).fingerprint());
    variants.put("two references", base.withRefs(REF_A, REF_B).fingerprint());
    variants.put("references reordered", base.withRefs(REF_B, REF_A).fingerprint());
    variants.put("no references", base.withRefs().fingerprint());
    assertThat(variants.values()).doesNotHaveDuplicates().allMatch(Hashes::isSha256Hex);
  }

  @Test
  void fieldsCannotBleedIntoTheirNeighbours() {
    R base = R.base();
    assertThat(base.model(model("flex/v1", "/x")).fingerprint())
        .isNotEqualTo(base.model(model("flex", "/v1/x")).fingerprint());
    assertThat(base.prompt("ab").withRefs(REF_A).fingerprint())
        .isNotEqualTo(base.prompt("ab" + REF_A).withRefs().fingerprint());
    assertThat(base.prompt("a").steps(null).guidance(null).fingerprint())
        .isNotEqualTo(base.prompt("a").steps(null).guidance(null).withRefs().fingerprint());
  }

  @Test
  void flagsThatDoNotShapeTheImageDoNotChangeIt() {
    R base = R.base();
    GenerationRequest r = base.request();
    GenerationRequest flagged =
        new GenerationRequest(
            r.model(),
            r.prompt(),
            r.size(),
            true,
            r.seed(),
            true,
            r.steps(),
            r.guidance(),
            r.safetyTolerance(),
            r.format(),
            r.referenceCount(),
            true);
    assertThat(SeedCache.fingerprint(flagged, base.refs())).isEqualTo(base.fingerprint());
  }

  @Test
  void aRequestWithoutItsSeedIsRefused() {
    IllegalArgumentException e =
        catchThrowableOfType(
            IllegalArgumentException.class, () -> R.base().seed(null).fingerprint());
    assertThat(e).hasMessage("fingerprint: the request needs its seed first; got seed null");
  }

  @Test
  void aRequestWithoutItsSizeIsRefused() {
    R base = R.base();
    GenerationRequest sizeless = base.request().withSize(null);
    IllegalArgumentException e =
        catchThrowableOfType(
            IllegalArgumentException.class, () -> SeedCache.fingerprint(sizeless, base.refs()));
    assertThat(e).hasMessage("fingerprint: the request needs its size first; got size null");
  }

  @Test
  void referenceHashesMustMatchTheRequestAndBeHashes() {
    GenerationRequest oneRef = R.base().request();
    assertThat(
            catchThrowableOfType(
                IllegalArgumentException.class,
                () -> SeedCache.fingerprint(oneRef, List.of(REF_A, REF_B))))
        .hasMessage("fingerprint: need one hash per reference; the request has 1, got 2");
    assertThat(
            catchThrowableOfType(
                IllegalArgumentException.class,
                () -> SeedCache.fingerprint(oneRef, List.of(REF_A.toUpperCase()))))
        .hasMessage(
            "reference hash must be 64 lowercase hex digits (a SHA-256); got \""
                + REF_A.toUpperCase()
                + "\"");
  }
}
