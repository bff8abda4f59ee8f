package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code FLUXBOT_DATA_DIR} names the data folder whatever the config file says (the container's
 * entrypoint and the systemd unit set it), and the file's other settings and errors stay as they
 * are.
 */
class DataDirEnvTest {
  @TempDir Path dir;

  private static FluxbotConfig load(Map<String, String> env) {
    return new Main().loadConfig(new Environment(env));
  }

  @Test
  void withNoFileTheVariableIsTheDataFolderAndTheRestIsTheDefaults() {
    FluxbotConfig config = load(Map.of(Environment.DATA_DIR, "/srv/fluxbot"));

    assertThat(config.storage().dataDir()).isEqualTo("/srv/fluxbot");
    assertThat(config.quotas()).isEqualTo(FluxbotConfig.DEFAULTS.quotas());
    assertThat(load(Map.of())).isEqualTo(FluxbotConfig.DEFAULTS);
  }

  @Test
  void theVariableWinsOverTheFileAndKeepsItsOtherSettings() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("fluxbot.yaml"),
            "storage:\n  data_dir: elsewhere\n  database_pool_size: 3\nquotas:\n  credits: 7\n");

    FluxbotConfig config =
        load(Map.of(Environment.CONFIG, file.toString(), Environment.DATA_DIR, "/data"));

    assertThat(config.storage().dataDir()).isEqualTo("/data");
    assertThat(config.storage().databasePoolSize()).isEqualTo(3);
    assertThat(config.quotas().credits()).isEqualTo(7.0);
    assertThat(load(Map.of(Environment.CONFIG, file.toString())).storage().dataDir())
        .as("relative to the file's folder")
        .isEqualTo(dir.resolve("elsewhere").toString());
  }

  @Test
  void aFileWithoutAStorageSectionOrEmptyGetsOne() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.yaml"), "");
    Path other =
        Files.writeString(dir.resolve("other.yaml"), "storage:\ncache:\n  memory_megabytes: 8\n");

    assertThat(
            load(Map.of(Environment.CONFIG, empty.toString(), Environment.DATA_DIR, "/d"))
                .storage()
                .dataDir())
        .isEqualTo("/d");
    FluxbotConfig config =
        load(Map.of(Environment.CONFIG, other.toString(), Environment.DATA_DIR, "/d"));
    assertThat(config.storage().dataDir()).isEqualTo("/d");
    assertThat(config.cache().memoryMegabytes()).isEqualTo(8);
  }

  @Test
  void localWorkersComeFromACommaSeparatedListAndAreChecked() throws Exception {
    Path file = Files.writeString(dir.resolve("fluxbot.yaml"), "local:\n  max_attempts: 5\n");

    FluxbotConfig config =
        load(
            Map.of(
                Environment.CONFIG,
                file.toString(),
                Environment.LOCAL_WORKERS,
                " http://klein:8188, http://gpu-box:8188 ,"));

    assertThat(config.local().workers())
        .containsExactly("http://klein:8188", "http://gpu-box:8188");
    assertThat(config.local().maxAttempts()).isEqualTo(5);
    assertThat(config.local().enabled()).isTrue();
    assertThatThrownBy(() -> load(Map.of(Environment.LOCAL_WORKERS, "klein:8188")))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .hasMessage(
            "the environment's local.workers: local: local.workers[0]: must be a worker's"
                + " http://HOST:PORT URL, e.g. http://127.0.0.1:8188; got \"klein:8188\"");
  }

  @Test
  void anUnknownSettingIsStillNamedWithItsFile() throws Exception {
    Path file = Files.writeString(dir.resolve("bad.yaml"), "storage:\n  data_dri: x\n");

    assertThatThrownBy(
            () -> load(Map.of(Environment.CONFIG, file.toString(), Environment.DATA_DIR, "/d")))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .hasMessageStartingWith(
            file
                + " with the environment's storage.data_dir: unknown setting 'storage.data_dri';"
                + " known here: ");
  }

  @Test
  void doctorShowsTheDatabaseInTheNamedFolder() {
    StringWriter out = new StringWriter();
    int rc =
        Main.run(
            new String[] {"doctor"},
            new Environment(Map.of(Environment.DATA_DIR, dir.resolve("state").toString())),
            new PrintWriter(out, true),
            new PrintWriter(new StringWriter(), true));

    assertThat(out.toString())
        .contains(
            "--    database: SQLite "
                + dir.resolve("state").resolve("fluxbot.db")
                + " does not exist yet");
    assertThat(dir.resolve("state")).as("doctor creates nothing").doesNotExist();
    assertThat(rc).isEqualTo(Main.BACKEND_FAILURE); // no chat token, no BFL key
  }
}
