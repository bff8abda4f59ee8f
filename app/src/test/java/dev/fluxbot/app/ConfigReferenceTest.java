package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The documentation stays true: the configuration reference shows the defaults, and no link leads
 * nowhere.
 */
class ConfigReferenceTest {
  private static final Path ROOT = Path.of("..");
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s#]+)(#[^)\\s]*)?\\)");

  @TempDir Path dir;

  @Test
  void theConfigurationReferencesBlockIsTheDefaults() throws Exception {
    String doc = Files.readString(ROOT.resolve("docs/configuration.md"));
    int start = doc.indexOf("```yaml\n") + "```yaml\n".length();
    assertThat(start)
        .as("docs/configuration.md has a yaml block")
        .isGreaterThan("```yaml\n".length() - 1);
    int end = doc.indexOf("```", start);
    Path file = Files.writeString(dir.resolve("fluxbot.yaml"), doc.substring(start, end));

    FluxbotConfig loaded = FluxbotConfig.load(file);
    // data_dir: data written in a file is beside the file; the built-in default is ./data
    assertThat(loaded.storage().dataDir()).isEqualTo(dir.resolve("data").toString());
    assertThat(loaded.toString().replace("dataDir=" + dir.resolve("data"), "dataDir=data"))
        .isEqualTo(FluxbotConfig.DEFAULTS.toString());
  }

  @Test
  void everyRelativeLinkInTheReadmeAndTheDocsLeadsToAFileInTheRepository() throws Exception {
    try (var docs = Files.list(ROOT.resolve("docs"))) {
      for (Path page :
          java.util.stream.Stream.concat(
                  java.util.stream.Stream.of(ROOT.resolve("README.md")),
                  docs.filter(p -> p.toString().endsWith(".md")))
              .toList()) {
        Matcher m = LINK.matcher(Files.readString(page));
        while (m.find()) {
          String target = m.group(1);
          if (target.matches("^[a-z]+:.*")) {
            continue; // a web address
          }
          Path resolved = page.getParent().resolve(target).normalize();
          assertThat(resolved).as(page + " links to " + target).exists();
          assertThat(
                  resolved
                      .toAbsolutePath()
                      .normalize()
                      .startsWith(ROOT.toAbsolutePath().normalize()))
              .as(page + " links outside the repository: " + target)
              .isTrue();
        }
      }
    }
  }
}
