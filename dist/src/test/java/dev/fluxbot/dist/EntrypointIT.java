package dev.fluxbot.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container's entrypoint ({@code docker/entrypoint.sh}), run directly as the image runs it: the
 * unpacked archive as {@code FLUXBOT_HOME}, a folder standing in for {@code /data}, as a user other
 * than root (nobody, when the tests run as root).
 */
class EntrypointIT {
  private static final int NOBODY = 65534;

  @TempDir static Path unpacked;
  @TempDir Path dir;

  static Path home;
  Path data;

  @BeforeAll
  static void unpack() throws Exception {
    home = Archive.unpack(unpacked);
  }

  @BeforeEach
  void dataFolder() throws Exception {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    data = Files.createDirectory(dir.resolve("data"));
    if (Processes.runAsRoot()) {
      Files.setAttribute(data, "unix:uid", NOBODY);
      Files.setAttribute(data, "unix:gid", NOBODY);
    }
  }

  private Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", Processes.javaBin() + ":/usr/bin:/bin");
    env.put("LANG", "C.UTF-8"); // as the Dockerfile sets it
    env.put("FLUXBOT_HOME", home.toString());
    env.put("FLUXBOT_DATA_DIR", data.toString());
    return env;
  }

  /** The entrypoint as the image's user: as nobody when the tests run as root. */
  private Processes.Result entrypoint(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    if (Processes.runAsRoot()) {
      command.addAll(
          List.of("/usr/bin/setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"));
    }
    command.add(Processes.root().resolve("docker/entrypoint.sh").toString());
    command.addAll(List.of(args));
    return Processes.run(dir, env, command);
  }

  @Test
  void withNoArgumentsItRunsTheBot() throws Exception {
    Processes.Result r = entrypoint(env());

    assertThat(r.code()).as(r.toString()).isEqualTo(2);
    assertThat(r.errLines())
        .anyMatch(l -> l.startsWith("fluxbot: no chat platform is configured."));
    assertThat(r.err()).contains("Developer Portal → your app → Bot → Reset Token");
    assertThat(data.resolve("fluxbot.db")).isRegularFile();
  }

  @Test
  void argumentsGoToFluxbot() throws Exception {
    Processes.Result r = entrypoint(env(), "--version");

    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("fluxbot " + Archive.version() + "\n");
  }

  @Test
  void theDataFolderHoldsTheDatabaseAndItsConfigIsRead() throws Exception {
    Path config = Files.writeString(data.resolve("fluxbot.yaml"), "quotas:\n  credits: 7\n");
    if (Processes.runAsRoot()) {
      Files.setAttribute(config, "unix:uid", NOBODY);
    }

    Processes.Result quota = entrypoint(env(), "quota", "show", "--user", "cli:bob");
    assertThat(quota.code()).as(quota.toString()).isZero(); // creates the database in /data
    Processes.Result r = entrypoint(env(), "doctor");

    assertThat(r.code()).as(r.toString()).isEqualTo(1); // no token, no key
    assertThat(r.out())
        .contains("ok    config: " + config + "\n")
        .contains("ok    database: SQLite " + data.resolve("fluxbot.db") + " opens, schema V")
        .contains("ok    image store: local pack files in " + data.resolve("images"));
    assertThat(data.resolve("fluxbot.db")).isRegularFile();
    if (Processes.runAsRoot()) {
      assertThat(Files.getAttribute(data.resolve("fluxbot.db"), "unix:uid")).isEqualTo(NOBODY);
    }
  }

  @Test
  void anExplicitConfigWinsOverTheDataFolders() throws Exception {
    Files.writeString(data.resolve("fluxbot.yaml"), "no_such_setting: 1\n");
    Path other = Files.writeString(dir.resolve("other.yaml"), "");
    Map<String, String> env = env();
    env.put("FLUXBOT_CONFIG", other.toString());

    Processes.Result r = entrypoint(env, "doctor");

    assertThat(r.out()).contains("ok    config: " + other + "\n");
  }

  @Test
  void asRootItRefusesInOneLine() throws Exception {
    assumeTrue(Processes.runAsRoot(), "only a test run as root can start it as root");

    Processes.Result r =
        Processes.run(
            dir, env(), List.of(Processes.root().resolve("docker/entrypoint.sh").toString()));

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.errLines())
        .containsExactly(
            "fluxbot: refusing to run as root; run the image as its own user (the default:"
                + " fluxbot, uid 10001), e.g. leave out --user 0 / user: root");
    assertThat(data).isEmptyDirectory();
  }

  @Test
  void aDataFolderItCannotWriteIsNamedWithTheFix() throws Exception {
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("r-xr-xr-x"));

    Processes.Result r = entrypoint(env(), "doctor");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.err())
        .startsWith("fluxbot: the data folder " + data + " is not writable by uid ")
        .contains("chown -R ");
  }

  @Test
  void aMissingDataFolderIsNamed() throws Exception {
    Map<String, String> env = env();
    env.put("FLUXBOT_DATA_DIR", dir.resolve("nowhere").toString());

    Processes.Result r = entrypoint(env, "doctor");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.errLines())
        .containsExactly(
            "fluxbot: the data folder "
                + dir.resolve("nowhere")
                + " does not exist; mount a volume there (docker run -v fluxbot-data:"
                + dir.resolve("nowhere")
                + " ...)");
  }
}
