package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WebSecretTest {
  private static final Environment NO_ENV = new Environment(Map.of());

  @TempDir Path dir;

  @Test
  void withoutTheVariableAKeyIsMadeOnceOwnerOnlyAndKeptForTheNextStart() throws Exception {
    Path data = dir.resolve("data");
    WebSecret.Key made = WebSecret.load(NO_ENV, data, new Random(1));
    Path file = data.resolve("web-secret");
    assertThat(made.source()).isEqualTo(file + " (made now)");
    assertThat(made.bytes()).hasSize(64);
    assertThat(Files.readString(file)).matches("[0-9a-f]{64}\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(Files.list(data)).as("no temporary file is left").containsExactly(file);

    WebSecret.Key again = WebSecret.load(NO_ENV, data, new Random(2));
    assertThat(again.bytes()).isEqualTo(made.bytes());
    assertThat(again.source()).isEqualTo(file.toString());
  }

  @Test
  void theVariableWinsAndMustBeLongEnoughWithoutBeingEchoed() {
    String secret = "x".repeat(40);
    WebSecret.Key key =
        WebSecret.load(new Environment(Map.of("FLUXBOT_WEB_SECRET", secret)), dir, new Random(1));
    assertThat(key.bytes()).isEqualTo(secret.getBytes(StandardCharsets.UTF_8));
    assertThat(key.source()).isEqualTo("FLUXBOT_WEB_SECRET");
    assertThat(dir.resolve("web-secret")).doesNotExist();

    assertThatThrownBy(
            () ->
                WebSecret.load(
                    new Environment(Map.of("FLUXBOT_WEB_SECRET", "hunter2-hunter2")), dir))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .hasMessage(
            "FLUXBOT_WEB_SECRET: must be at least 32 characters (it signs download links); it has 15. "
                + "Make one with: openssl rand -hex 32")
        .message()
        .doesNotContain("hunter2");
  }

  @Test
  void aKeyFileOthersMayReadIsRefusedWithTheFix() throws Exception {
    Path file = dir.resolve("web-secret");
    Files.writeString(file, "s3cr3t-".repeat(6));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> WebSecret.load(NO_ENV, dir))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .hasMessage(
            file
                + ": others may read it (rw-r--r--), and it holds the key that signs download links. Run chmod 600 "
                + file
                + ", or delete it to make a new key (links already sent stop working).")
        .message()
        .doesNotContain("s3cr3t");
  }

  @Test
  void aKeyFileTooShortIsRefused() throws Exception {
    Path file = dir.resolve("web-secret");
    Files.writeString(file, "short\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    assertThatThrownBy(() -> WebSecret.load(NO_ENV, dir))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .hasMessage(
            file
                + ": the key in it is shorter than 32 characters; delete the file to make a new one, or set "
                + "FLUXBOT_WEB_SECRET.");
  }
}
