package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fluxbot imagine … --dry-run}: every request that prompt variants and --repeat make. */
class ImagineDryRunVariantsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private Path config;

  record Run(int exit, String out, String err) {}

  @BeforeEach
  void config() throws Exception {
    config = dir.resolve("fluxbot.yaml");
    Files.writeString(config, "storage:\n  data_dir: " + dir.resolve("data") + "\n");
  }

  private Run fluxbot(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    List<String> all = new ArrayList<>(List.of(args));
    all.add(1, "--config=" + config);
    int exit =
        Main.run(
            all.toArray(String[]::new),
            new Environment(Map.of()),
            new PrintWriter(out, true),
            new PrintWriter(err, true));
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void oneRequestIsOneJsonObject() throws Exception {
    Run run = fluxbot("imagine", "a red fox --seed 7", "--dry-run", "--json");
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode node = JSON.readTree(run.out());
    assertThat(node.isObject()).isTrue();
    assertThat(node.get("prompt").asText()).isEqualTo("a red fox");
  }

  @Test
  void variantsAndRepeatsAreAJsonArrayOfEveryRequest() throws Exception {
    Run run = fluxbot("imagine", "a {red, blue} fox --seed 7 --repeat 2", "--dry-run", "--json");
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode node = JSON.readTree(run.out());
    assertThat(node.isArray()).isTrue();
    assertThat(node).hasSize(4);
    List<String> prompts = new ArrayList<>();
    List<Long> seeds = new ArrayList<>();
    node.forEach(
        o -> {
          prompts.add(o.get("prompt").asText());
          seeds.add(o.get("seed").asLong());
          assertThat(o.get("model").asText()).isEqualTo("klein-4b");
        });
    assertThat(prompts).containsExactly("a red fox", "a red fox", "a blue fox", "a blue fox");
    assertThat(seeds).containsExactly(7L, 8L, 7L, 8L);
  }

  @Test
  void theTextFormNumbersEachRequest() {
    Run run = fluxbot("imagine", "a {red, blue} fox", "--dry-run");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("Request 1 of 2: Would send to /v1/flux-2-klein-4b")
        .contains("Prompt: a red fox")
        .contains("Request 2 of 2: ")
        .contains("Prompt: a blue fox");
  }

  @Test
  void aJsonPromptIsNeverExpanded() throws Exception {
    String json = "{\"scene\": \"a fox\", \"colors\": [\"red\", \"blue\"]}";
    Run run = fluxbot("imagine", json, "--dry-run", "--json");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(JSON.readTree(run.out()).get("prompt").asText()).isEqualTo(json);
  }

  @Test
  void badVariantsAndRepeatsAreOneLineNamingTheField() {
    Run five = fluxbot("imagine", "a {a,b,c} fox --repeat 2", "--dry-run", "--json");
    assertThat(five.exit()).isEqualTo(2);
    assertThat(five.err().strip())
        .isEqualTo(
            "fluxbot: prompt: at most 4 images per command (variants × --repeat × --n); got 6"
                + " (3 variants × 2 × 1). Remove alternatives from the {…} groups, or lower"
                + " --repeat or --n.");
    assertThat(five.out()).isEmpty();

    Run nine = fluxbot("imagine", "a fox --repeat 9", "--dry-run");
    assertThat(nine.exit()).isEqualTo(2);
    assertThat(nine.err())
        .contains("--repeat: must be a whole number from 1 to 4; got \"9\". Example: --repeat 2.");

    Run open = fluxbot("imagine", "a {red, blue fox", "--dry-run");
    assertThat(open.exit()).isEqualTo(2);
    assertThat(open.err()).contains("\"{\" at character 3 is never closed");

    Run empty = fluxbot("imagine", "a {red,} fox", "--dry-run");
    assertThat(empty.exit()).isEqualTo(2);
    assertThat(empty.err()).contains("empty alternative");
    for (Run r : List.of(five, nine, open, empty)) {
      assertThat(r.err().strip()).doesNotContain("\n").doesNotContain("Exception");
    }
  }
}
