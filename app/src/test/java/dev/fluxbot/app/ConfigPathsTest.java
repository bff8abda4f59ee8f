package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A relative path in {@code fluxbot.yaml} is relative to the file's folder. */
class ConfigPathsTest {
  @TempDir Path dir;

  @Test
  void aRelativeDataDirIsBesideTheConfigFileNotInTheWorkingFolder() throws Exception {
    Path conf = Files.createDirectories(dir.resolve("etc/fluxbot"));
    Path file = Files.writeString(conf.resolve("fluxbot.yaml"), "storage:\n  data_dir: state\n");

    FluxbotConfig config = FluxbotConfig.load(file);

    assertThat(Path.of(config.storage().dataDir())).isEqualTo(conf.resolve("state"));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit =
        Main.run(
            new String[] {"quota", "--config=" + file, "show", "--user", "cli:bob"},
            new Environment(Map.of()),
            new PrintWriter(out, true),
            new PrintWriter(err, true));
    assertThat(exit).as(err.toString()).isZero();
    assertThat(conf.resolve("state/fluxbot.db")).exists();
  }

  @Test
  void anAbsolutePathAndTheDefaultStayAsTheyAre() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("fluxbot.yaml"),
            "storage:\n  data_dir: /srv/fluxbot\nbfl:\n  api_key_file: keys/bfl\n");

    FluxbotConfig config = FluxbotConfig.load(file);

    assertThat(config.storage().dataDir()).isEqualTo("/srv/fluxbot");
    assertThat(config.bfl().apiKeyFile()).isEqualTo(dir.resolve("keys/bfl").toString());
    Path empty = Files.writeString(dir.resolve("other.yaml"), "quotas:\n  credits: 10\n");
    assertThat(FluxbotConfig.load(empty).storage().dataDir()).isEqualTo("data");
  }

  @Test
  void everyPathSettingIsARealSetting() throws Exception {
    for (String pointer : ConfigFile.PATH_SETTINGS) {
      String[] names = pointer.substring(1).split("/");
      StringBuilder yaml = new StringBuilder();
      for (int i = 0; i < names.length; i++) {
        yaml.append("  ".repeat(i))
            .append(names[i])
            .append(i == names.length - 1 ? ": x\n" : ":\n");
      }
      Path file = Files.writeString(dir.resolve("one.yaml"), yaml);
      try {
        FluxbotConfig.load(file);
      } catch (FluxbotConfig.ConfigException e) {
        assertThat(e.getMessage()).as(pointer).doesNotContain("unknown setting");
      }
    }
  }
}
