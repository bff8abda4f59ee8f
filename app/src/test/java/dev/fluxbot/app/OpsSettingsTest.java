package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ops.listen} and {@code FLUXBOT_OPS_LISTEN}: the default, off, addresses, mistakes. */
class OpsSettingsTest {
  @TempDir Path dir;

  private static final Environment NONE = new Environment(Map.of());

  private FluxbotConfig load(String yaml) throws Exception {
    return FluxbotConfig.load(Files.writeString(dir.resolve("fluxbot.yaml"), yaml));
  }

  private static String where(Optional<InetSocketAddress> a) {
    return a.map(x -> x.getHostString() + ":" + x.getPort()).orElse("off");
  }

  @Test
  void onByDefaultOnLoopback() {
    assertThat(where(FluxbotConfig.DEFAULTS.ops().address(NONE))).isEqualTo("127.0.0.1:9464");
  }

  @Test
  void offInTheFileWhetherYamlReadsItAsAWordOrAsFalse() throws Exception {
    assertThat(where(load("ops:\n  listen: off\n").ops().address(NONE))).isEqualTo("off");
    assertThat(where(load("ops:\n  listen: \"off\"\n").ops().address(NONE))).isEqualTo("off");
    assertThat(where(load("ops:\n  listen: 0.0.0.0:9100\n").ops().address(NONE)))
        .isEqualTo("0.0.0.0:9100");
    assertThat(where(load("ops:\n  listen: \"[::1]:0\"\n").ops().address(NONE))).isEqualTo("::1:0");
  }

  @Test
  void theVariableWinsOverTheFile() throws Exception {
    FluxbotConfig config = load("ops:\n  listen: 0.0.0.0:9100\n");
    assertThat(where(config.ops().address(new Environment(Map.of("FLUXBOT_OPS_LISTEN", "off")))))
        .isEqualTo("off");
    assertThat(
            where(
                config.ops().address(new Environment(Map.of("FLUXBOT_OPS_LISTEN", "127.0.0.1:0")))))
        .isEqualTo("127.0.0.1:0");
  }

  @Test
  void aBadValueNamesTheFieldTheRuleAndTheValue() {
    assertThatThrownBy(() -> load("ops:\n  listen: 9464\n"))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .hasMessageContaining("ops.listen: must be HOST:PORT, e.g. 127.0.0.1:9464")
        .hasMessageEndingWith("or off; got \"9464\"");
    assertThatThrownBy(() -> load("ops:\n  listen: \"host:70000\"\n"))
        .hasMessageContaining("got \"host:70000\"");
    assertThatThrownBy(() -> load("ops:\n  port: 9464\n"))
        .hasMessageContaining("unknown setting 'ops.port'")
        .hasMessageContaining("listen");
    assertThatThrownBy(
            () ->
                FluxbotConfig.DEFAULTS
                    .ops()
                    .address(new Environment(Map.of("FLUXBOT_OPS_LISTEN", ":0"))))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .hasMessageStartingWith("FLUXBOT_OPS_LISTEN: must be HOST:PORT")
        .hasMessageEndingWith("got \":0\"");
  }
}
