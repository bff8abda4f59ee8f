package dev.fluxbot.core.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.ModelCatalog;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code --enhance} and {@code --no-enhance} in the grammar. */
class EnhanceFlagTest {
  private final CommandParser parser =
      new CommandParser(ModelCatalog.builtIn(), CommandParser.Settings.defaults());

  @Test
  void theFlagsAreReadAndLeaveThePrompt() {
    assertThat(CommandParser.enhanceFlag("a fox --enhance", Map.of())).isTrue();
    assertThat(CommandParser.enhanceFlag("a fox —enhance --seed 3", Map.of())).isTrue();
    assertThat(CommandParser.enhanceFlag("--no-enhance a fox", Map.of())).isFalse();
    assertThat(CommandParser.enhanceFlag("a fox", Map.of())).isNull();
    assertThat(CommandParser.enhanceFlag("a fox", Map.of("enhance", "true"))).isTrue();
    assertThat(CommandParser.enhanceFlag("a fox", Map.of("enhance", "false"))).isFalse();
    assertThat(parser.parse("a fox --enhance --seed 3", Map.of(), 0).prompt()).isEqualTo("a fox");
    assertThat(parser.parse("a --no-enhance fox", Map.of(), 0).prompt()).isEqualTo("a fox");
  }

  @Test
  void aFlagInsideQuotesOrJsonIsPromptText() {
    assertThat(CommandParser.enhanceFlag("\"a sign that says --enhance\"", Map.of())).isNull();
    assertThat(CommandParser.enhanceFlag("{\"text\": \"--enhance\"}", Map.of())).isNull();
  }

  @Test
  void bothFlagsOrAValueAreRefused() {
    assertThatThrownBy(() -> CommandParser.enhanceFlag("a fox --enhance --no-enhance", Map.of()))
        .isInstanceOf(UserError.class)
        .hasMessage("--enhance and --no-enhance: give at most one of them; got both. Keep one.");
    assertThatThrownBy(() -> CommandParser.enhanceFlag("a fox --enhance --enhance", Map.of()))
        .isInstanceOf(UserError.class)
        .hasMessageStartingWith("--enhance was given twice");
    assertThatThrownBy(() -> CommandParser.enhanceFlag("a fox", Map.of("enhance", "lots")))
        .isInstanceOf(UserError.class)
        .hasMessageStartingWith("--enhance: must be true or false; got \"lots\"");
  }
}
