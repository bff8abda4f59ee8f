package dev.fluxbot.slack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.Enhancement;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The image's comment with {@code --enhance}: both prompts, escaped, within a block's 3000. */
class SlackEnhanceCaptionTest {
  private static ImageReply reply(Enhancement e) {
    GenerationRequest request =
        new CommandParser(ModelCatalog.builtIn(), CommandParser.Settings.defaults())
            .parse("a fox", Map.of(), 0)
            .withSeed(9);
    GenerationResult result =
        new GenerationResult(
            new byte[1],
            ImageType.JPEG,
            1024,
            1024,
            9,
            new BigDecimal("1.40"),
            "bfl",
            "t",
            Duration.ZERO);
    return new ImageReply("01JOB", request, result, false, List.of(), e);
  }

  @Test
  void theCommentShowsBothPromptsEscaped() {
    String caption =
        Texts.caption(reply(Enhancement.enhanced("a <fox>", "a *red* fox & snow", "m")), "U1");
    assertThat(caption)
        .isEqualTo(
            "*a &lt;fox&gt;* — <@U1>\n✨ Enhanced by m: a red fox &amp; snow\n"
                + "klein-4b · 1024×1024 · seed 9 · 1.4 credits");
  }

  @Test
  void longPromptsFitOneBlock() {
    String caption =
        Texts.caption(reply(Enhancement.enhanced("t".repeat(4000), "e".repeat(6000), "m")), "U1");
    assertThat(caption.length()).isLessThanOrEqualTo(Texts.MAX_TEXT);
    assertThat(caption).contains("✨ Enhanced by m: eee").endsWith("seed 9 · 1.4 credits");
  }
}
