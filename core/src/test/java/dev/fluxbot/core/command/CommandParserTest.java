package dev.fluxbot.core.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fluxbot.core.Text;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.ImageSize;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import java.math.BigDecimal;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CommandParserTest {
  private final ModelCatalog catalog = ModelCatalog.builtIn();
  private final CommandParser parser =
      new CommandParser(catalog, CommandParser.Settings.defaults());

  private GenerationRequest parse(String text) {
    return parser.parse(text, Map.of(), 0);
  }

  private UserError refused(String text) {
    return catchThrowableOfType(UserError.class, () -> parse(text));
  }

  @Test
  void plainPromptGetsTheDefaults() {
    GenerationRequest r = parse("a red fox in snow");
    assertThat(r.prompt()).isEqualTo("a red fox in snow");
    assertThat(r.model().id()).isEqualTo("klein-4b");
    assertThat(r.model().endpoint()).isEqualTo("/v1/flux-2-klein-4b");
    assertThat(r.size()).isEqualTo(new ImageSize(1024, 1024));
    assertThat(r.seed()).isNull();
    assertThat(r.safetyTolerance()).isEqualTo(2);
    assertThat(r.format()).isEqualTo(ImageType.JPEG);
    assertThat(r.steps()).isNull();
    assertThat(r.guidance()).isNull();
    assertThat(r.noCache()).isFalse();
  }

  @ParameterizedTest
  @CsvSource({
    "klein, klein-4b",
    "klein-4b, klein-4b",
    "KLEIN-9B, klein-9b",
    "pro, pro",
    "max, max",
    "flex, flex",
    "klein-9b-preview, klein-9b-preview",
    "pro-preview, pro-preview"
  })
  void modelAliases(String name, String id) {
    assertThat(parse("fox --model " + name).model().id()).isEqualTo(id);
  }

  @ParameterizedTest
  @CsvSource({
    "square_1_1, 1024, 1024",
    "widescreen_16_9, 1344, 768",
    "social_story_9_16, 768, 1344",
    "portrait_2_3, 832, 1216",
    "traditional_3_4, 960, 1280",
    "vertical_1_2, 704, 1408",
    "horizontal_2_1, 1408, 704",
    "social_post_4_5, 896, 1152",
    "standard_3_2, 1216, 832",
    "classic_4_3, 1280, 960",
    "16:9, 1344, 768",
    "9:16, 768, 1344",
    "1:1, 1024, 1024",
    "4:3, 1280, 960",
    "3:2, 1216, 832",
    "2:3, 832, 1216",
    "4:5, 896, 1152",
    "1:2, 704, 1408",
    "2:1, 1408, 704",
    "3:4, 960, 1280",
    "32:18, 1344, 768"
  })
  void presetsAnswerToNameAndRatio(String ar, int w, int h) {
    assertThat(parse("fox --ar " + ar).size()).isEqualTo(new ImageSize(w, h));
  }

  @ParameterizedTest
  @CsvSource({
    "21:9, 1568, 672",
    "5:4, 1152, 912",
    "4:1, 2048, 512",
    "1:4, 512, 2048",
    "7:5, 1216, 864"
  })
  void otherRatiosGetAboutOneMegapixel(String ar, int w, int h) {
    ImageSize size = parse("fox --ar " + ar).size();
    assertThat(size).isEqualTo(new ImageSize(w, h));
    assertThat(size.width() % 16).isZero();
    assertThat(size.height() % 16).isZero();
    assertThat(size.pixels()).isBetween(900_000L, 1_200_000L);
  }

  @ParameterizedTest
  @CsvSource({
    "square_1_1, 2048, 2048",
    "16:9, 2048, 1168",
    "9:16, 1168, 2048",
    "4:3, 2048, 1536",
    "2:1, 2048, 1024",
    "4:5, 1600, 2048",
    "3:2, 2048, 1408"
  })
  void twoKDoublesAndShrinksTogetherAt2048(String ar, int w, int h) {
    GenerationRequest r = parse("fox --ar " + ar + " --res 2k");
    assertThat(r.size()).isEqualTo(new ImageSize(w, h));
    assertThat(r.hiRes()).isTrue();
  }

  @Test
  void twoKOfTheDefaultSquare() {
    assertThat(parse("fox --res 2k").size()).isEqualTo(new ImageSize(2048, 2048));
    assertThat(parse("fox --res 1k").size()).isEqualTo(new ImageSize(1024, 1024));
  }

  @ParameterizedTest
  @CsvSource({
    "1000x600, 1008, 608",
    "1000x590, 1008, 592",
    "1536x1024, 1536, 1024",
    "64x64, 64, 64",
    "10x10, 64, 64",
    "2048x2048, 2048, 2048",
    "1500×1000, 1504, 1008"
  })
  void sizeRoundsToMultiplesOf16(String size, int w, int h) {
    assertThat(parse("fox --size " + size).size()).isEqualTo(new ImageSize(w, h));
  }

  @Test
  void sizeWithTwoKIsCappedAtTheSideLimit() {
    assertThat(parse("fox --size 1536x1024 --res 2k").size()).isEqualTo(new ImageSize(2048, 1360));
  }

  @Test
  void sizeOverTheLimitsIsRefused() {
    assertThat(refused("fox --size 3000x1000").getMessage())
        .isEqualTo(
            "--size: each side must be at most 2048 px; got \"3000x1000\". Use --size with smaller sides, or --ar for a ratio.");
    assertThat(refused("fox --size 2048x2064").code()).isEqualTo(UserError.Code.INVALID_OPTION);
    assertThat(refused("fox --size big").getMessage())
        .startsWith("--size: must be WIDTHxHEIGHT in pixels; got \"big\"");
  }

  @Test
  void arAndSizeTogetherAreRefused() {
    assertThat(refused("fox --ar 16:9 --size 512x512").getMessage())
        .isEqualTo("--size: cannot be combined with --ar (\"16:9\"); keep one of them.");
  }

  @ParameterizedTest
  @CsvSource({"5:1", "1:5", "0:1", "16:0", "wide", "16", "-16:9"})
  void badRatiosAreRefused(String ar) {
    UserError e = refused("fox --ar " + ar);
    assertThat(e.code()).isEqualTo(UserError.Code.INVALID_OPTION);
    assertThat(e.getMessage()).startsWith("--ar: ").contains("got \"" + ar + "\"");
  }

  @ParameterizedTest
  @CsvSource({"0, 0", "42, 42", "4294967295, 4294967295"})
  void seeds(String given, long expected) {
    assertThat(parse("fox --seed " + given).seed()).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({"4294967296", "-1", "1.5", "abc", "99999999999999999999", "1e5"})
  void badSeedsAreRefused(String seed) {
    assertThat(refused("fox --seed " + seed).getMessage())
        .isEqualTo(
            "--seed: must be a whole number from 0 to "
                + "4294967295, or last; got \""
                + seed
                + "\". Example: --seed 42.");
  }

  @Test
  void seedLastIsLeftForTheService() {
    GenerationRequest r = parse("fox --seed last");
    assertThat(r.seedFromLast()).isTrue();
    assertThat(r.seed()).isNull();
  }

  @Test
  void flexTakesStepsAndGuidance() {
    GenerationRequest r = parse("fox --model flex --steps 28 --guidance 4.5");
    assertThat(r.steps()).isEqualTo(28);
    assertThat(r.guidance()).isEqualTo(4.5);
    assertThat(parse("fox --model flex --steps 1 --guidance 1.5").steps()).isEqualTo(1);
    assertThat(parse("fox --model flex --steps 50 --guidance 10").guidance()).isEqualTo(10.0);
  }

  @Test
  void stepsAndGuidanceOutOfRangeAreRefused() {
    assertThat(refused("fox --model flex --steps 51").getMessage())
        .isEqualTo(
            "--steps: must be a whole number from 1 to 50; got \"51\". Example: --steps 28.");
    assertThat(refused("fox --model flex --steps 0").code())
        .isEqualTo(UserError.Code.INVALID_OPTION);
    assertThat(refused("fox --model flex --guidance 1.4").getMessage())
        .isEqualTo(
            "--guidance: must be a number from 1.5 to 10; got \"1.4\". Example: --guidance 4.5.");
    assertThat(refused("fox --model flex --guidance NaN").code())
        .isEqualTo(UserError.Code.INVALID_OPTION);
  }

  @ParameterizedTest
  @CsvSource({
    "klein, --steps 20",
    "pro, --guidance 3",
    "max, --steps 10",
    "klein-9b, --guidance 2"
  })
  void stepsAndGuidanceAreFlexOnly(String model, String flag) {
    UserError e = refused("fox --model " + model + " " + flag);
    assertThat(e.getMessage())
        .contains("only the flex model takes it")
        .contains("Add --model flex");
  }

  @Test
  void formats() {
    assertThat(parse("fox --format png").format()).isEqualTo(ImageType.PNG);
    assertThat(parse("fox --format WEBP").format()).isEqualTo(ImageType.WEBP);
    assertThat(parse("fox --format jpg").format()).isEqualTo(ImageType.JPEG);
    assertThat(refused("fox --format gif").getMessage())
        .isEqualTo("--format: must be jpeg, png or webp; got \"gif\". Example: --format png.");
  }

  @Test
  void safetyIsCappedByTheAdmin() {
    assertThat(parse("fox --safety 5").safetyTolerance()).isEqualTo(5);
    assertThat(parse("fox --safety 0").safetyTolerance()).isZero();
    assertThat(refused("fox --safety 6").code()).isEqualTo(UserError.Code.INVALID_OPTION);
    CommandParser strict =
        new CommandParser(catalog, new CommandParser.Settings("klein", 4000, 1, ImageType.JPEG));
    assertThat(strict.parse("fox", Map.of(), 0).safetyTolerance()).isEqualTo(1);
    UserError e =
        catchThrowableOfType(UserError.class, () -> strict.parse("fox --safety 3", Map.of(), 0));
    assertThat(e.getMessage())
        .isEqualTo("--safety: this bot allows at most 1 here; got \"3\". Use --safety 1 or lower.");
  }

  @Test
  void noCache() {
    assertThat(parse("fox --no-cache").noCache()).isTrue();
    assertThat(parse("fox --no-cache --seed 3").seed()).isEqualTo(3);
  }

  @Test
  void flagsMayStandAnywhereAndTheGapsCloseUp() {
    GenerationRequest r = parse("--ar 16:9 a red fox --seed 7 in snow --format=png");
    assertThat(r.prompt()).isEqualTo("a red fox in snow");
    assertThat(r.seed()).isEqualTo(7);
    assertThat(r.format()).isEqualTo(ImageType.PNG);
    assertThat(r.size()).isEqualTo(new ImageSize(1344, 768));
  }

  @Test
  void emDashFlagsAsPhonesTypeThem() {
    GenerationRequest r = parse("a fox \u2014ar 16:9 \u2014seed 9");
    assertThat(r.prompt()).isEqualTo("a fox");
    assertThat(r.seed()).isEqualTo(9);
    assertThat(parse("a fox \u2014 majestic \u2014bold").prompt())
        .isEqualTo("a fox \u2014 majestic \u2014bold");
  }

  @Test
  void newlinesInThePromptSurvive() {
    assertThat(parse("line one\nline two --seed 1").prompt()).isEqualTo("line one\nline two");
  }

  @Test
  void jsonPromptPassesThroughUntouched() {
    String json =
        "{\"scene\": \"a fox --ar 1:1 in snow\", \"colors\": [\"#FF0000\", \"#FFFFFF\"],  \"style\":{\"x\":1}}";
    GenerationRequest r = parse(json + " --ar 16:9 --seed 5");
    assertThat(r.prompt()).isEqualTo(json);
    assertThat(r.size()).isEqualTo(new ImageSize(1344, 768));
    assertThat(r.seed()).isEqualTo(5);
    assertThat(parse(json).prompt()).isEqualTo(json);
  }

  @Test
  void bracesThatAreNotJsonAreOrdinaryText() {
    assertThat(parse("a {red} fox --seed 1").prompt()).isEqualTo("a {red} fox");
    assertThat(refused("a {broken --bogus 1").code()).isEqualTo(UserError.Code.UNKNOWN_OPTION);
  }

  @Test
  void quotesAndHexColoursPassThrough() {
    GenerationRequest r = parse("a sign that says \"--ar is cool\" in #FF8800 --seed 2");
    assertThat(r.prompt()).isEqualTo("a sign that says \"--ar is cool\" in #FF8800");
    assertThat(parse("a 12\" vinyl --seed 2").prompt()).isEqualTo("a 12\" vinyl");
  }

  @Test
  void quotedFlagValues() {
    assertThat(parse("fox --ar \"16:9\"").size()).isEqualTo(new ImageSize(1344, 768));
  }

  @Test
  void unknownFlagsAreRefusedNamingThem() {
    UserError e = refused("a fox --v 6");
    assertThat(e.code()).isEqualTo(UserError.Code.UNKNOWN_OPTION);
    assertThat(e.getMessage())
        .startsWith("Unknown option --v; known options: --model, --ar, --size, --res, --seed")
        .endsWith("To keep the text in the prompt, put it in double quotes.");
  }

  @Test
  void dashesThatAreNotFlagsStayInThePrompt() {
    assertThat(parse("a long -- winded tale --- x --5").prompt())
        .isEqualTo("a long -- winded tale --- x --5");
  }

  @Test
  void aFlagWithoutItsValueIsRefused() {
    assertThat(refused("fox --seed").getMessage())
        .isEqualTo("--seed: needs a value; got nothing. Example: --seed 42.");
    assertThat(refused("fox --ar --seed 2").getMessage()).startsWith("--ar: needs a value");
  }

  @Test
  void aFlagGivenTwiceIsRefused() {
    assertThat(refused("fox --seed 1 --seed 2").getMessage())
        .isEqualTo("--seed was given twice (\"1\" and \"2\"); keep one.");
  }

  @Test
  void emptyPromptIsRefused() {
    assertThat(refused("").code()).isEqualTo(UserError.Code.EMPTY_PROMPT);
    assertThat(refused("   --ar 16:9").getMessage()).startsWith("prompt: must not be empty.");
  }

  @Test
  void overLongPromptIsRefusedWithItsLength() {
    String prompt = "x".repeat(4001);
    assertThat(refused(prompt).getMessage())
        .isEqualTo("prompt: at most 4000 characters; got 4001. Shorten it by 1.");
    assertThat(parse("x".repeat(4000) + " --seed 1").prompt()).hasSize(4000);
    CommandParser short10 =
        new CommandParser(catalog, new CommandParser.Settings("klein", 10, 5, ImageType.JPEG));
    assertThat(
            catchThrowableOfType(UserError.class, () -> short10.parse("eleven char", Map.of(), 0))
                .code())
        .isEqualTo(UserError.Code.PROMPT_TOO_LONG);
    assertThat(parse("🦊".repeat(4000)).prompt()).isEqualTo("🦊".repeat(4000));
  }

  @Test
  void tooManyReferencesAreRefusedPerModel() {
    assertThat(parser.parse("fox", Map.of(), 4).referenceCount()).isEqualTo(4);
    UserError e = catchThrowableOfType(UserError.class, () -> parser.parse("fox", Map.of(), 5));
    assertThat(e.code()).isEqualTo(UserError.Code.TOO_MANY_REFERENCES);
    assertThat(e.getMessage())
        .isEqualTo(
            "references: klein-4b takes at most 4 reference images; got 5. Remove 1 or use --model pro.");
    assertThat(parser.parse("fox --model max", Map.of(), 8).referenceCount()).isEqualTo(8);
    assertThat(
            catchThrowableOfType(
                    UserError.class, () -> parser.parse("fox --model pro", Map.of(), 9))
                .getMessage())
        .isEqualTo("references: pro takes at most 8 reference images; got 9. Remove 1.");
  }

  @Test
  void withReferencesAndNoSizeTheSizeWaitsForTheFirstReference() {
    GenerationRequest r = parser.parse("fox", Map.of(), 1);
    assertThat(r.size()).isNull();
    assertThat(parser.parse("fox --ar 16:9", Map.of(), 1).size())
        .isEqualTo(new ImageSize(1344, 768));
  }

  @Test
  void nativeOptionsWinOverFlagsInTheText() {
    GenerationRequest r =
        parser.parse(
            "fox --ar 1:1 --seed 1",
            Map.of(
                "aspect",
                "widescreen_16_9",
                "seed",
                "99",
                "model",
                "pro",
                "resolution",
                "2k",
                "format",
                "png"),
            0);
    assertThat(r.size()).isEqualTo(new ImageSize(2048, 1168));
    assertThat(r.seed()).isEqualTo(99);
    assertThat(r.model().id()).isEqualTo("pro");
    assertThat(r.format()).isEqualTo(ImageType.PNG);
    assertThat(r.prompt()).isEqualTo("fox");
  }

  @Test
  void userDefaultsAreWeakerThanAnythingTypedAndScopeSettingsApply() {
    CommandParser.Context context =
        new CommandParser.Context(
            Map.of("model", "pro", "aspect", "16:9", "format", "png"), "max", 1);
    GenerationRequest defaults = parser.parse("a fox", Map.of(), 0, context);
    assertThat(defaults.model().id()).isEqualTo("pro");
    assertThat(defaults.size()).isEqualTo(new ImageSize(1344, 768));
    assertThat(defaults.format()).isEqualTo(ImageType.PNG);
    assertThat(defaults.safetyTolerance()).isEqualTo(1);

    GenerationRequest typed =
        parser.parse("a fox --model flex --ar 1:1", Map.of("format", "jpeg"), 0, context);
    assertThat(typed.model().id()).isEqualTo("flex");
    assertThat(typed.size()).isEqualTo(new ImageSize(1024, 1024));
    assertThat(typed.format()).isEqualTo(ImageType.JPEG);

    CommandParser.Context scopeOnly = new CommandParser.Context(Map.of(), "max", 1);
    assertThat(parser.parse("a fox", Map.of(), 0, scopeOnly).model().id()).isEqualTo("max");
    assertThat(
            catchThrowableOfType(
                    UserError.class, () -> parser.parse("a fox --safety 2", Map.of(), 0, scopeOnly))
                .getMessage())
        .isEqualTo("--safety: this bot allows at most 1 here; got \"2\". Use --safety 1 or lower.");
    assertThat(
            catchThrowableOfType(
                    UserError.class,
                    () ->
                        parser.parse(
                            "a fox",
                            Map.of(),
                            0,
                            new CommandParser.Context(Map.of("model", "gone"), null, null)))
                .getMessage())
        .startsWith("your default model: must be one of");
  }

  @Test
  void badNativeOptionsNameTheNativeField() {
    UserError e =
        catchThrowableOfType(UserError.class, () -> parser.parse("fox", Map.of("seed", "x"), 0));
    assertThat(e.getMessage()).startsWith("seed: must be a whole number");
    assertThatThrownBy(() -> parser.parse("fox", Map.of("colour", "red"), 0))
        .isInstanceOf(UserError.class)
        .hasMessageStartingWith("Unknown option \"colour\"");
  }

  @Test
  void estimatedCostFollowsThePriceTable() {
    assertThat(parse("fox").estimatedCost(java.util.List.of())).isEqualByComparingTo("1.4");
    assertThat(parse("fox --res 2k").estimatedCost(java.util.List.of()))
        .isEqualByComparingTo("1.7");
    assertThat(parse("fox --model pro").estimatedCost(java.util.List.of()))
        .isEqualByComparingTo("3");
    assertThat(parse("fox --model max --res 2k").estimatedCost(java.util.List.of()))
        .isEqualByComparingTo("16");
    assertThat(parser.parse("fox --model flex", Map.of(), 2).estimatedCost(java.util.List.of()))
        .isEqualByComparingTo(BigDecimal.valueOf(15));
    assertThat(parse("fox --model flex --ar 21:9").estimatedCost(java.util.List.of()).toString())
        .isEqualTo("10");
    assertThat(parse("fox --model klein-9b --res 2k").estimatedCost(java.util.List.of()).toString())
        .isEqualTo("2.1");
  }

  /** Property: whatever the text, the parser answers a request or a UserError, nothing else. */
  @Test
  void randomInputNeverThrowsAnythingButUserError() {
    String[] pieces = {
      "--",
      "—",
      "-",
      "--ar",
      "--seed",
      "--size",
      "--model",
      "--res",
      "--steps",
      "--guidance",
      "--format",
      "--safety",
      "--no-cache",
      "--x",
      "=",
      "16:9",
      "0",
      "4294967295",
      "9999999999999",
      "last",
      "1.5",
      "x",
      "1024x768",
      "{",
      "}",
      "[",
      "]",
      "\"",
      "\u201c",
      "\\",
      ":",
      "flex",
      "klein",
      "pro",
      "2k",
      " ",
      "  ",
      "\n",
      "\t",
      "a",
      "fox",
      "🦊",
      "\u0000",
      "NaN",
      "-1",
      "e",
      ".",
      "{\"a\":1}",
      "{\"k\":\"--ar 1:1\"}",
      "#FF0000"
    };
    Random random = new Random(20261121);
    for (int i = 0; i < 30_000; i++) {
      StringBuilder sb = new StringBuilder();
      int n = random.nextInt(12);
      for (int j = 0; j < n; j++) {
        sb.append(random.nextInt(4) == 0 ? " " : "").append(pieces[random.nextInt(pieces.length)]);
        if (random.nextInt(5) == 0) {
          sb.appendCodePoint(random.nextInt(0x3000));
        }
      }
      String text = sb.toString();
      int refs = random.nextInt(10);
      try {
        GenerationRequest r = parser.parse(text, Map.of(), refs);
        assertThat(r.prompt()).isNotBlank();
        assertThat(r.referenceCount()).isLessThanOrEqualTo(r.model().maxReferences());
        if (r.size() != null) {
          assertThat(r.size().width() % 16).isZero();
          assertThat(r.size().height() % 16).isZero();
          assertThat(r.size().pixels()).isLessThanOrEqualTo(4L * 1024 * 1024);
          assertThat(Math.max(r.size().width(), r.size().height())).isLessThanOrEqualTo(2048);
          assertThat(Math.min(r.size().width(), r.size().height())).isGreaterThanOrEqualTo(64);
        }
      } catch (UserError e) {
        assertThat(e.getMessage()).isNotBlank();
      } catch (RuntimeException e) {
        throw new AssertionError("input " + Text.quote(text) + " threw " + e, e);
      }
    }
  }
}
