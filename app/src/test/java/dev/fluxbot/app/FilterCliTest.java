package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fluxbot filter add|remove|list} and the config's {@code filters:} section, in process on a
 * SQLite store, and {@code fluxbot imagine} refused by them before anything is sent.
 */
class FilterCliTest {
  @TempDir Path dir;

  record Run(int exit, String out, String err) {}

  private Path config(String extra) throws Exception {
    Path config = dir.resolve("fluxbot.yaml");
    Files.writeString(config, "storage:\n  data_dir: " + dir.resolve("data") + "\n" + extra);
    return config;
  }

  private Run fluxbot(Path config, Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    List<String> all = new ArrayList<>(List.of(args));
    all.add(1, "--config=" + config);
    int exit =
        Main.run(
            all.toArray(String[]::new),
            new Environment(env),
            new PrintWriter(out, true),
            new PrintWriter(err, true));
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void addListRemoveForTheInstallationAndForAScope() throws Exception {
    Path config = config("filters:\n  words: [eel]\n  patterns: ['nud(e|ity)']\n");
    Run add = fluxbot(config, Map.of(), "filter", "add", "red", "fox");
    assertThat(add.exit()).as(add.err()).isZero();
    assertThat(add.out().strip())
        .isEqualTo(
            "Added the word filter \"red fox\" for the whole installation. Prompts that match it"
                + " are refused before anything is charged.");
    Run scoped =
        fluxbot(config, Map.of(), "filter", "add", "--scope", "discord:4177", "--regex", "c[a@]t");
    assertThat(scoped.out()).startsWith("Added the regex filter \"c[a@]t\" for discord 4177.");
    Run every = fluxbot(config, Map.of(), "filter", "add", "--scope", "telegram:*", "owl");
    assertThat(every.out()).contains("for every chat on telegram");
    Run again = fluxbot(config, Map.of(), "filter", "add", "owl", "--scope", "telegram:*");
    assertThat(again.out().strip())
        .isEqualTo("The filter \"owl\" is set for every chat on telegram already.");

    Run list = fluxbot(config, Map.of(), "filter", "list");
    assertThat(list.exit()).isZero();
    assertThat(list.out().lines().toList())
        .containsExactly(
            "installation-wide, in fluxbot.yaml\tword eel",
            "installation-wide, in fluxbot.yaml\tregex nud(e|ity)",
            "installation-wide\tword red fox\t(added by operator)",
            "discord 4177\tregex c[a@]t\t(added by operator)",
            "every chat on telegram\tword owl\t(added by operator)");
    assertThat(fluxbot(config, Map.of(), "filter", "list", "--scope", "discord:4177").out())
        .isEqualTo("Word filters for discord 4177 (1):\n• regex \"c[a@]t\"\n");

    Run remove = fluxbot(config, Map.of(), "filter", "remove", "red fox");
    assertThat(remove.out().strip())
        .isEqualTo("Removed the filter \"red fox\" for the whole installation.");
    Run none = fluxbot(config, Map.of(), "filter", "remove", "red fox");
    assertThat(none.exit()).isEqualTo(2);
    assertThat(none.err().strip())
        .isEqualTo(
            "fluxbot: filter remove: no filter \"red fox\" is set for the whole installation;"
                + " see them with filter list, and give the pattern exactly as listed");
  }

  @Test
  void badPatternsAndScopesAreOneLineNamingTheField() throws Exception {
    Path config = config("");
    Run broken = fluxbot(config, Map.of(), "filter", "add", "--regex", "nud(e|ity");
    assertThat(broken.exit()).isEqualTo(2);
    assertThat(broken.err())
        .startsWith("fluxbot: PATTERN: must be a valid regular expression; \"nud(e|ity\" is not (");
    Run slow = fluxbot(config, Map.of(), "filter", "add", "--regex", "(x+x+)+y");
    assertThat(slow.exit()).isEqualTo(2);
    assertThat(slow.err()).startsWith("fluxbot: PATTERN: a regex must answer within 50 ms");
    Run scope = fluxbot(config, Map.of(), "filter", "add", "--scope", "irc:#x", "owl");
    assertThat(scope.exit()).isEqualTo(2);
    assertThat(scope.err()).startsWith("fluxbot: --scope: must be PLATFORM:ID or PLATFORM:*");
    for (Run r : List.of(broken, slow, scope)) {
      assertThat(r.err().strip()).doesNotContain("\n").doesNotContain("Exception");
    }
  }

  @Test
  void aBadFilterInTheConfigStopsItLoadingNamingTheSetting() throws Exception {
    Path config = config("filters:\n  patterns: ['ok', '[a-']\n");
    Run run = fluxbot(config, Map.of(), "filter", "list");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err())
        .contains("filters.patterns[1]: must be a valid regular expression; \"[a-\" is not (");
    assertThat(run.err().strip()).doesNotContain("\n");
  }

  @Test
  void imagineIsRefusedByAFilterBeforeAnythingIsSent() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort(); // nothing listens there once closed: a send would fail
    }
    Path config = config("filters:\n  words: [red fox]\n");
    Map<String, String> env = new HashMap<>();
    env.put("BFL_API_KEY", "sk-filters-test");
    env.put("FLUXBOT_BFL_BASE_URL", "http://127.0.0.1:" + closed);
    Run run =
        fluxbot(config, env, "imagine", "a {red} Fox --seed 1"); // one image: the CLI writes one
    assertThat(run.exit()).as(run.err()).isEqualTo(2);
    assertThat(run.err().strip())
        .startsWith("fluxbot: prompt: must not match the word filters set for this bot; it matches")
        .contains("\"red fox\" (word, installation-wide, in fluxbot.yaml) in \"a red Fox\"");

    Run dry = fluxbot(config, Map.of(), "imagine", "a {blue, red} fox", "--dry-run", "--json");
    assertThat(dry.exit()).as("the dry run checks the config's filters").isEqualTo(2);
    assertThat(dry.err()).contains("it matches the filter \"red fox\"");
    assertThat(fluxbot(config, Map.of(), "imagine", "a blue fox", "--dry-run").exit()).isZero();

    assertThat(fluxbot(config, Map.of(), "filter", "add", "--scope", "cli:*", "x").err())
        .as("the CLI is no chat platform")
        .contains("--scope: must be");
  }
}
