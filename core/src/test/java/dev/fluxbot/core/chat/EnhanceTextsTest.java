package dev.fluxbot.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.Enhancement;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.SettingsStore;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What captions show of --enhance, and the admin's default per scope. */
class EnhanceTextsTest {
  private static final AdminWords.Users NOBODY =
      new AdminWords.Users() {
        @Override
        public java.util.Optional<String> parse(String word) {
          return java.util.Optional.empty();
        }

        @Override
        public String implied() {
          return null;
        }

        @Override
        public String hint() {
          return "a user id";
        }

        @Override
        public String example() {
          return "123";
        }
      };

  private final InstantSource clock = InstantSource.fixed(Instant.parse("2026-11-21T12:00:00Z"));
  private final ChatAdmin.Scope here = new ChatAdmin.Scope("test", "g1", "in this group");
  @TempDir Path dir;
  private Database db;
  private SettingsStore settings;
  private AdminWords words;

  @BeforeEach
  void open() {
    db = Database.sqlite(dir.resolve("fluxbot.db"));
    settings = new SettingsStore(db, clock);
    QuotaService quota = new QuotaService(db, QuotaService.Settings.defaults(), clock);
    words =
        new AdminWords(
            new ChatAdmin(
                quota, settings, ModelCatalog.builtIn(), new ChatTexts(ChatAdminTest.SEEN), clock));
  }

  @AfterEach
  void close() {
    db.close();
  }

  private static ImageReply reply(String prompt, Enhancement e) {
    GenerationRequest request =
        new GenerationRequest(
            ModelCatalog.builtIn().require("klein-4b"),
            prompt,
            null,
            false,
            7L,
            false,
            null,
            null,
            2,
            ImageType.JPEG,
            0,
            false);
    GenerationResult result =
        new GenerationResult(
            new byte[] {1},
            ImageType.JPEG,
            1024,
            1024,
            7,
            BigDecimal.ONE,
            "bfl",
            "t",
            Duration.ZERO);
    return new ImageReply("01JOB", request, result, false, List.of(), e);
  }

  @Test
  void withoutEnhanceTheCaptionShowsThePromptAlone() {
    ChatTexts.CaptionPrompts shown = ChatTexts.captionPrompts(reply("a fox", null), 100, t -> t);
    assertThat(shown).isEqualTo(new ChatTexts.CaptionPrompts("a fox", ""));
  }

  @Test
  void aShortEnhancementShowsBothInFull() {
    Enhancement e = Enhancement.enhanced("a fox", "a red fox in deep snow", "llama3.2:3b");
    ChatTexts.CaptionPrompts shown =
        ChatTexts.captionPrompts(reply("a red fox in deep snow", e), 200, t -> t);
    assertThat(shown.prompt()).isEqualTo("a fox");
    assertThat(shown.line()).isEqualTo("\n✨ Enhanced by llama3.2:3b: a red fox in deep snow");
  }

  @Test
  void longPromptsAreBothCutToFitTheBudgetAndTheTypedOneKeepsAThird() {
    for (int budget : new int[] {1024, 1990, 2990, 120}) {
      String typed = "t".repeat(5000);
      String enhanced = "e".repeat(8000);
      ChatTexts.CaptionPrompts shown =
          ChatTexts.captionPrompts(
              reply(enhanced, Enhancement.enhanced(typed, enhanced, "m")), budget, t -> t);
      assertThat(shown.prompt().length() + shown.line().length()).isLessThanOrEqualTo(budget);
      assertThat(shown.prompt().length()).isGreaterThanOrEqualTo(budget / 3);
      assertThat(shown.prompt()).endsWith("…");
      assertThat(shown.line()).startsWith("\n✨ Enhanced by m: eee").endsWith("…");
    }
    // a short typed prompt leaves the rest to the enhanced one
    ChatTexts.CaptionPrompts shown =
        ChatTexts.captionPrompts(
            reply("e".repeat(8000), Enhancement.enhanced("a fox", "e".repeat(8000), "m")),
            1024,
            t -> t);
    assertThat(shown.prompt()).isEqualTo("a fox");
    assertThat(shown.line()).hasSize(1024 - 5);
  }

  @Test
  void aFailedEnhancementShowsTheTypedPromptAndTheNote() {
    Enhancement e = Enhancement.failed("a fox", "m", "the enhancer answered HTTP 503");
    ChatTexts.CaptionPrompts shown = ChatTexts.captionPrompts(reply("a fox", e), 300, t -> t);
    assertThat(shown.prompt()).isEqualTo("a fox");
    assertThat(shown.line())
        .isEqualTo(
            "\n⚠️ Prompt not enhanced (the enhancer answered HTTP 503); this image is from your"
                + " prompt as typed.");
  }

  @Test
  void theEscapingIsAppliedBeforeCutting() {
    Enhancement e = Enhancement.enhanced("a <b>", "a <b> fox", "m");
    ChatTexts.CaptionPrompts shown =
        ChatTexts.captionPrompts(reply("a <b> fox", e), 200, t -> t.replace("<", "&lt;"));
    assertThat(shown.prompt()).isEqualTo("a &lt;b>");
    assertThat(shown.line()).isEqualTo("\n✨ Enhanced by m: a &lt;b> fox");
  }

  @Test
  void anAdminSetsTheScopesDefaultAndItSurvivesTheOtherScopeSettings() {
    assertThat(settings.scopeEnhance("test", "g1")).isNull();
    assertThat(words.run(here, List.of("enhance", "on"), NOBODY))
        .isEqualTo(
            "Prompt enhancement is now [b:on] by default in this group; users can still type"
                + " --no-enhance.");
    assertThat(settings.scopeEnhance("test", "g1")).isTrue();
    words.run(here, List.of("max-safety", "3"), NOBODY); // another setting of the same scope
    assertThat(settings.scopeEnhance("test", "g1")).isTrue();
    assertThat(settings.scope("test", "g1").maxSafety()).isEqualTo(3);
    words.run(here, List.of("enhance", "off"), NOBODY);
    assertThat(settings.scopeEnhance("test", "g1")).isFalse();
    assertThat(words.run(here, List.of("enhance", "default"), NOBODY))
        .isEqualTo(
            "Prompt enhancement in this group now follows the bot's default"
                + " (enhance.on_by_default).");
    assertThat(settings.scopeEnhance("test", "g1")).isNull();
    assertThat(settings.scope("test", "g1").maxSafety()).isEqualTo(3);
    assertThat(settings.scopeEnhance("test", null)).isNull();
    assertThat(settings.scopeEnhance("test", "other")).isNull();
  }

  @Test
  void aWrongValueNamesTheFieldTheRuleAndTheValue() {
    assertThatThrownBy(() -> words.run(here, List.of("enhance", "maybe"), NOBODY))
        .isInstanceOf(AdminWords.Mistake.class)
        .hasMessageStartingWith("enhance: must be on, off or default; got \"maybe\"");
  }

  @Test
  void theNewSentencesKeepTheHouseForm() {
    assertThat(ChatTexts.enhanceOff())
        .startsWith("--enhance: ")
        .contains("got --enhance")
        .contains("enhance.base_url");
    assertThat(Set.of(ChatTexts.enhanceTwice()))
        .allSatisfy(s -> assertThat(s).contains("got both"));
  }
}
