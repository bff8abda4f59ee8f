package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code web} section of {@code fluxbot.yaml}. */
class WebConfigTest {
  @TempDir Path dir;

  private FluxbotConfig load(String yaml) throws Exception {
    Path file = dir.resolve("fluxbot.yaml");
    Files.writeString(file, yaml);
    return FluxbotConfig.load(file);
  }

  private String error(String yaml) {
    Path file = dir.resolve("fluxbot.yaml");
    return assertThatThrownBy(() -> load(yaml))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .actual()
        .getMessage()
        .substring(file.toString().length() + 2);
  }

  @Test
  void withoutAPublicUrlTheServerIsOff() throws Exception {
    FluxbotConfig.Web web = load("bfl:\n  region: eu\n").web();
    assertThat(web.enabled()).isFalse();
    assertThat(web.listen()).isEqualTo("127.0.0.1:8787");
    assertThat(web.linkDays()).isEqualTo(7);
  }

  @Test
  void aPublicUrlTurnsItOnOnTheDefaultAddress() throws Exception {
    FluxbotConfig.Web web = load("web:\n  public_url: https://bot.example.com/\n").web();
    assertThat(web.enabled()).isTrue();
    assertThat(web.publicUrl())
        .as("without the trailing slash")
        .isEqualTo("https://bot.example.com");
    assertThat(web.address().getHostString()).isEqualTo("127.0.0.1");
    assertThat(web.address().getPort()).isEqualTo(8787);

    FluxbotConfig.Web all =
        load("web:\n  listen: \"[::1]:9000\"\n  public_url: http://10.0.0.5:9000/fluxbot\n"
                + "  link_days: 30\n")
            .web();
    assertThat(all.address().getHostString()).isEqualTo("::1");
    assertThat(all.address().getPort()).isEqualTo(9000);
    assertThat(all.publicUrl()).isEqualTo("http://10.0.0.5:9000/fluxbot");
    assertThat(all.linkDays()).isEqualTo(30);
  }

  @Test
  void mistakesNameTheFieldTheRuleAndTheValue() {
    assertThat(error("web:\n  listen: 0.0.0.0:8787\n"))
        .startsWith(
            "web: web.public_url: required when web.listen is set; "
                + "it is the address users' browsers reach this server at (e.g. https://bot.example.com)");
    assertThat(error("web:\n  listen: localhost\n  public_url: https://b.example\n"))
        .isEqualTo(
            "web: web.listen: must be HOST:PORT with a port 1..65535, e.g. 127.0.0.1:8787 (or 0.0.0.0:8787 for every "
                + "interface); got \"localhost\"");
    assertThat(error("web:\n  listen: 127.0.0.1:99999\n  public_url: https://b.example\n"))
        .endsWith("got \"127.0.0.1:99999\"");
    assertThat(error("web:\n  public_url: bot.example.com\n"))
        .isEqualTo(
            "web: web.public_url: must be an http:// or "
                + "https:// URL with a host and no query, e.g. https://bot.example.com or https://example.com/fluxbot; "
                + "got \"bot.example.com\"");
    assertThat(error("web:\n  public_url: https://b.example/?x=1\n"))
        .endsWith("got \"https://b.example/?x=1\"");
    assertThat(error("web:\n  public_url: https://b.example\n  link_days: 0\n"))
        .isEqualTo("web: web.link_days: must be 1..365; got 0");
    assertThat(error("web:\n  public_uri: https://b.example\n"))
        .isEqualTo("unknown setting 'web.public_uri'; known here: link_days, listen, public_url.");
  }
}
