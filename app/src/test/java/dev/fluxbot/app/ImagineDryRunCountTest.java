package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fluxbot imagine … --dry-run --json} shows {@code n}; a bad {@code --n} is one line. */
class ImagineDryRunCountTest {
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
    String[] all = new String[args.length + 1];
    all[0] = args[0];
    all[1] = "--config=" + config;
    System.arraycopy(args, 1, all, 2, args.length - 1);
    int exit =
        Main.run(
            all, new Environment(Map.of()), new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void theDryRunShowsN() throws Exception {
    JsonNode four =
        JSON.readTree(fluxbot("imagine", "a fox --n 4 --seed 7", "--dry-run", "--json").out());
    assertThat(four.get("n").asInt()).isEqualTo(4);
    assertThat(four.get("seed").asLong()).isEqualTo(7);
    assertThat(four.get("prompt").asText()).isEqualTo("a fox");
    JsonNode one = JSON.readTree(fluxbot("imagine", "a fox", "--dry-run", "--json").out());
    assertThat(one.get("n").asInt()).isEqualTo(1);
  }

  @Test
  void aBadNIsOneLineNamingTheFlagAndNothingIsTouched() {
    for (String bad : new String[] {"0", "5", "x"}) {
      Run run = fluxbot("imagine", "a fox --n " + bad, "--dry-run");
      assertThat(run.exit()).isEqualTo(2);
      assertThat(run.err().strip())
          .startsWith("fluxbot: --n: must be a whole number from 1 to 4")
          .contains("got \"" + bad + "\"")
          .doesNotContain("\n");
    }
    assertThat(dir.resolve("data")).doesNotExist();
  }
}
