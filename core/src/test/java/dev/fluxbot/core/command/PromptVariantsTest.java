package dev.fluxbot.core.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.ModelCatalog;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PromptVariantsTest {

  @Test
  void oneGroupGivesOnePromptPerAlternative() {
    assertThat(PromptVariants.expand("a {red, blue} fox"))
        .containsExactly("a red fox", "a blue fox");
  }

  @Test
  void groupsMultiplyFirstGroupSlowest() {
    assertThat(PromptVariants.expand("{a,b} {c,d}")).containsExactly("a c", "a d", "b c", "b d");
  }

  @Test
  void groupsNest() {
    assertThat(PromptVariants.expand("{a {b,c}, d}")).containsExactly("a b", "a c", "d");
    assertThat(PromptVariants.expand("x {y{1,2}z, w}!"))
        .containsExactly("x y1z!", "x y2z!", "x w!");
  }

  @Test
  void alternativesAreTrimmed() {
    assertThat(PromptVariants.expand("a {  red ,\tblue  } fox"))
        .containsExactly("a red fox", "a blue fox");
  }

  @Test
  void aSingleAlternativeIsItsText() {
    assertThat(PromptVariants.expand("a { red } fox")).containsExactly("a red fox");
  }

  @Test
  void aPromptWithoutGroupsIsItself() {
    assertThat(PromptVariants.expand("a red fox, in snow")).containsExactly("a red fox, in snow");
    assertThat(PromptVariants.expand("C:\\path stays")).containsExactly("C:\\path stays");
  }

  @Test
  void escapesAreLiterals() {
    assertThat(PromptVariants.expand("a \\{b\\} c")).containsExactly("a {b} c");
    assertThat(PromptVariants.expand("{x\\, y, z}")).containsExactly("x, y", "z");
    assertThat(PromptVariants.expand("back\\\\{a,b}")).containsExactly("back\\a", "back\\b");
    assertThat(PromptVariants.expand("\\}")).containsExactly("}");
  }

  @Test
  void jsonPromptsAreNeverExpanded() {
    String json = "{\"scene\": \"a fox\", \"colors\": [\"red\", \"blue\"]}";
    assertThat(PromptVariants.expand(json)).containsExactly(json);
    assertThat(PromptVariants.expand("  " + json + " ")).containsExactly("  " + json + " ");
    assertThat(PromptVariants.expand("{a,b} " + json)).containsExactly("a " + json, "b " + json);
  }

  @Test
  void emptyAlternativesAreRefused() {
    for (String bad : List.of("{a,}", "{}", "{ }", "{,a}", "x {a, ,b} y", "{a {}, b}")) {
      assertThatThrownBy(() -> PromptVariants.expand(bad), bad)
          .isInstanceOf(UserError.class)
          .hasMessageContaining("empty alternative")
          .hasMessageStartingWith("prompt:");
    }
  }

  @Test
  void unbalancedBracesNameThePosition() {
    assertThatThrownBy(() -> PromptVariants.expand("a {red, blue fox"))
        .isInstanceOf(UserError.class)
        .hasMessageContaining("\"{\" at character 3 is never closed")
        .hasMessageContaining("\\{");
    assertThatThrownBy(() -> PromptVariants.expand("a red} fox"))
        .isInstanceOf(UserError.class)
        .hasMessageContaining("\"}\" at character 6 closes no \"{\"");
    assertThatThrownBy(() -> PromptVariants.expand("{a, {b, c}"))
        .hasMessageContaining("\"{\" at character 1 is never closed");
  }

  @Test
  void moreThanFourImagesIsRefusedWithTheCountAndTheLimit() {
    assertThatThrownBy(() -> PromptVariants.expand("{a,b,c,d,e}"))
        .isInstanceOf(UserError.class)
        .hasMessageContaining("at most 4 images")
        .hasMessageContaining("got 5 (5 variants × 1 × 1)");
    assertThatThrownBy(() -> PromptVariants.expand("{a,b,c}", 2, 1))
        .hasMessageContaining("got 6 (3 variants × 2 × 1)");
    assertThatThrownBy(() -> PromptVariants.expand("fox", 3, 2))
        .hasMessageContaining("got 6 (1 variant × 3 × 2)");
    assertThat(PromptVariants.expand("{a,b}", 2, 1)).hasSize(2);
    assertThat(PromptVariants.expand("fox", 4, 1)).containsExactly("fox");
  }

  @Test
  void aHugeProductIsRefusedWithoutBuildingIt() {
    String huge = "{a,b,c,d,e,f,g,h,i,j}".repeat(12); // 10^12 prompts
    assertThatThrownBy(() -> PromptVariants.expand(huge)).hasMessageContaining("more than 1000000");
    assertThat(PromptVariants.count(huge)).isEqualTo(1_000_000);
  }

  @Test
  void deepNestingIsRefused() {
    String deep = "{".repeat(3000) + "a" + "}".repeat(3000);
    assertThatThrownBy(() -> PromptVariants.expand(deep))
        .isInstanceOf(UserError.class)
        .hasMessageContaining("nest at most 8 deep");
    assertThat(PromptVariants.expand("{{{a}}}")).containsExactly("a");
  }

  @Test
  void requestsRepeatEachVariantAndKeepATypedSeed() {
    CommandParser parser =
        new CommandParser(ModelCatalog.builtIn(), CommandParser.Settings.defaults());
    GenerationRequest parsed = parser.parse("a {red, blue} fox --seed 7", Map.of(), 0);
    List<GenerationRequest> rs = PromptVariants.requests(parsed, 2);
    assertThat(rs)
        .extracting(GenerationRequest::prompt)
        .containsExactly("a red fox", "a red fox", "a blue fox", "a blue fox");
    assertThat(rs).extracting(GenerationRequest::seed).containsExactly(7L, 8L, 7L, 8L);
    GenerationRequest unseeded = parser.parse("fox", Map.of(), 0);
    assertThat(PromptVariants.requests(unseeded, 3))
        .extracting(GenerationRequest::seed)
        .containsOnlyNulls()
        .hasSize(3);
    GenerationRequest top = parsed.withSeed(GenerationRequest.MAX_SEED);
    assertThat(PromptVariants.requests(top, 2).get(1).seed()).isZero();
  }

  @Test
  void repeatIsParsedFromTheTextOrANativeOption() {
    CommandParser parser =
        new CommandParser(ModelCatalog.builtIn(), CommandParser.Settings.defaults());
    assertThat(parser.repeat("a fox", Map.of())).isEqualTo(1);
    assertThat(parser.repeat("a fox --repeat 3", Map.of())).isEqualTo(3);
    assertThat(parser.repeat("a fox --repeat=2", Map.of("repeat", "4"))).isEqualTo(4);
    assertThat(parser.parse("a fox --repeat 4", Map.of(), 0).prompt()).isEqualTo("a fox");
    for (String bad : List.of("0", "5", "9", "two", "-1", "1.5")) {
      assertThatThrownBy(() -> parser.parse("a fox --repeat " + bad, Map.of(), 0), bad)
          .isInstanceOf(UserError.class)
          .hasMessage(
              "--repeat: must be a whole number from 1 to 4; got \""
                  + bad
                  + "\". Example: --repeat 2.");
      assertThatThrownBy(() -> parser.repeat("a fox --repeat " + bad, Map.of()), bad)
          .isInstanceOf(UserError.class);
    }
    assertThatThrownBy(() -> parser.parse("a fox --repeat", Map.of(), 0))
        .hasMessageContaining("--repeat: needs a value");
  }

  /**
   * Property: a random tree of groups and words, written out with escapes, expands to exactly the
   * prompts built from the tree, in order.
   */
  @Test
  void randomTreesExpandToWhatTheyWereBuiltFrom() {
    Random random = new Random(18);
    for (int round = 0; round < 2000; round++) {
      StringBuilder text = new StringBuilder();
      List<String> expected = sequence(random, 0, text);
      if (expected.size() > PromptVariants.MAX_IMAGES) {
        assertThatThrownBy(() -> PromptVariants.expand(text.toString()))
            .hasMessageContaining("got " + expected.size());
        continue;
      }
      assertThat(PromptVariants.expand(text.toString())).as(text.toString()).isEqualTo(expected);
      assertThat(PromptVariants.count(text.toString())).isEqualTo(expected.size());
    }
  }

  private static final String[] WORDS = {"fox", "red", "a,b", "{x}", "a\\b", "snow", "é"};

  /** Writes a sequence of words and groups into {@code text}; returns its expansions. */
  private static List<String> sequence(Random random, int depth, StringBuilder text) {
    List<String> acc = List.of("");
    int parts = 1 + random.nextInt(3);
    for (int p = 0; p < parts; p++) {
      List<String> piece;
      if (depth < 3 && random.nextInt(3) == 0) {
        piece = new ArrayList<>();
        text.append('{');
        int alternatives = 1 + random.nextInt(3);
        for (int a = 0; a < alternatives; a++) {
          text.append(a > 0 ? ", " : " ");
          for (String s : sequence(random, depth + 1, text)) {
            piece.add(s.strip());
          }
        }
        text.append(" }");
      } else {
        String word = WORDS[random.nextInt(WORDS.length)];
        text.append(escape(word));
        piece = List.of(word);
      }
      if (p < parts - 1) {
        text.append(' ');
        piece = piece.stream().map(s -> s + " ").toList();
      }
      List<String> next = new ArrayList<>();
      for (String head : acc) {
        for (String tail : piece) {
          next.add(head + tail);
        }
      }
      acc = next;
    }
    return acc;
  }

  private static String escape(String word) {
    StringBuilder sb = new StringBuilder();
    for (char c : word.toCharArray()) {
      if ("{},\\".indexOf(c) >= 0) {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.toString();
  }
}
