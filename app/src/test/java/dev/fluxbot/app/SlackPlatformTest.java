package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.slack.SlackBot;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slack's settings for {@code fluxbot run}: the {@code slack} section of {@code fluxbot.yaml}, and
 * the environment that wins.
 */
class SlackPlatformTest {
  private static final String BOT = "xoxb-1-2-abc";

  @TempDir Path dir;

  private static SlackBot.Config config(Map<String, String> vars) {
    return SlackPlatform.config(new Environment(vars), FluxbotConfig.DEFAULTS.slack())
        .orElseThrow();
  }

  private FluxbotConfig.Slack yaml(String section) throws Exception {
    Path file = dir.resolve("fluxbot.yaml");
    Files.writeString(file, "slack:\n" + section.indent(2));
    return FluxbotConfig.load(file).slack();
  }

  private Path secretFile(String name, String text) throws Exception {
    return Files.writeString(dir.resolve(name), text);
  }

  @Test
  void withoutABotTokenSlackIsOff() throws Exception {
    assertThat(
            SlackPlatform.config(
                new Environment(Map.of(SlackPlatform.APP_TOKEN, "xapp-1")),
                FluxbotConfig.DEFAULTS.slack()))
        .isEmpty();
    assertThat(
            SlackPlatform.config(
                new Environment(Map.of()), yaml("mode: http\nadmin_user_ids: [U1]")))
        .isEmpty();
  }

  @Test
  void socketModeIsTheDefaultAndNeedsTheAppToken() {
    SlackBot.Config c =
        config(
            Map.of(
                SlackPlatform.BOT_TOKEN,
                BOT,
                SlackPlatform.APP_TOKEN,
                "xapp-1-A-3-x",
                SlackPlatform.ADMINS,
                " U1, U2 ,,"));
    assertThat(c.mode()).isEqualTo(SlackBot.Mode.SOCKET);
    assertThat(c.adminUserIds()).isEqualTo(Set.of("U1", "U2"));
    assertThat(c.apiBaseUrl()).isNull();
    assertThatThrownBy(() -> config(Map.of(SlackPlatform.BOT_TOKEN, BOT)))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .hasMessageStartingWith(
            "FLUXBOT_SLACK_APP_TOKEN (or slack.app_token_file): Socket Mode needs an app-level "
                + "token (xapp-…)");
  }

  @Test
  void httpModeNeedsTheSigningSecretAndListensWhereToldAt() {
    SlackBot.Config c =
        config(
            Map.of(
                SlackPlatform.BOT_TOKEN,
                BOT,
                SlackPlatform.MODE,
                "HTTP",
                SlackPlatform.SIGNING_SECRET,
                "s3cret",
                SlackPlatform.HTTP_LISTEN,
                "0.0.0.0:8080",
                SlackPlatform.API_URL,
                "http://127.0.0.1:9/api"));
    assertThat(c.mode()).isEqualTo(SlackBot.Mode.HTTP);
    assertThat(c.httpListen()).isEqualTo(new InetSocketAddress("0.0.0.0", 8080));
    assertThat(c.apiBaseUrl()).isEqualTo("http://127.0.0.1:9/api/");
    assertThatThrownBy(
            () -> config(Map.of(SlackPlatform.BOT_TOKEN, BOT, SlackPlatform.MODE, "http")))
        .hasMessageStartingWith(
            "FLUXBOT_SLACK_SIGNING_SECRET (or slack.signing_secret_file): HTTP mode checks "
                + "every request");
  }

  @Test
  void theConfigFileGivesEverySettingAndTheSecretsAsFiles() throws Exception {
    Path bot = secretFile("bot-token", BOT + "\n");
    Path signing = secretFile("signing-secret", "s3cret\n");
    FluxbotConfig.Slack slack =
        yaml(
            "bot_token_file: "
                + bot
                + "\nsigning_secret_file: "
                + signing
                + "\nmode: http\nhttp_listen: 0.0.0.0:8080\nadmin_user_ids: [U1, ' U2 ']\napi_base_url: http://127.0.0.1:9/api");

    SlackBot.Config c = SlackPlatform.config(new Environment(Map.of()), slack).orElseThrow();

    assertThat(c.botToken().reveal()).as("read from the file, stripped").isEqualTo(BOT);
    assertThat(c.signingSecret().reveal()).isEqualTo("s3cret");
    assertThat(c.mode()).isEqualTo(SlackBot.Mode.HTTP);
    assertThat(c.httpListen()).isEqualTo(new InetSocketAddress("0.0.0.0", 8080));
    assertThat(c.adminUserIds()).isEqualTo(Set.of("U1", "U2"));
    assertThat(c.apiBaseUrl()).isEqualTo("http://127.0.0.1:9/api/");
    assertThat(c.toString()).doesNotContain(BOT).doesNotContain("s3cret");
  }

  @Test
  void eachVariableWinsOverItsSetting() throws Exception {
    FluxbotConfig.Slack slack =
        yaml(
            "bot_token_file: "
                + secretFile("bot-token", "xoxb-from-file")
                + "\napp_token_file: "
                + secretFile("app-token", "xapp-from-file")
                + "\nmode: http\nhttp_listen: 127.0.0.1:1\nadmin_user_ids: [U1]\napi_base_url: http://127.0.0.1:9/api/");

    SlackBot.Config c =
        SlackPlatform.config(
                new Environment(
                    Map.of(
                        SlackPlatform.BOT_TOKEN,
                        BOT,
                        SlackPlatform.APP_TOKEN,
                        "xapp-env",
                        SlackPlatform.MODE,
                        "socket",
                        SlackPlatform.ADMINS,
                        "U9",
                        SlackPlatform.API_URL,
                        "http://127.0.0.1:7/api/")),
                slack)
            .orElseThrow();

    assertThat(c.botToken().reveal()).isEqualTo(BOT);
    assertThat(c.appToken().reveal()).isEqualTo("xapp-env");
    assertThat(c.mode()).isEqualTo(SlackBot.Mode.SOCKET);
    assertThat(c.adminUserIds()).isEqualTo(Set.of("U9"));
    assertThat(c.apiBaseUrl()).isEqualTo("http://127.0.0.1:7/api/");
  }

  @Test
  void mistakesNameTheVariableAndTheValue() {
    assertThatThrownBy(
            () -> config(Map.of(SlackPlatform.BOT_TOKEN, BOT, SlackPlatform.MODE, "webhook")))
        .hasMessage(
            "FLUXBOT_SLACK_MODE: must be socket or http; got \"webhook\". Leave it unset for Socket Mode.");
    assertThatThrownBy(
            () ->
                config(
                    Map.of(
                        SlackPlatform.BOT_TOKEN,
                        BOT,
                        SlackPlatform.MODE,
                        "http",
                        SlackPlatform.SIGNING_SECRET,
                        "s",
                        SlackPlatform.HTTP_LISTEN,
                        "3000")))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .hasMessage(
            "FLUXBOT_SLACK_HTTP_LISTEN: must be HOST:PORT with a port 1..65535, e.g. 127.0.0.1:3000 (or "
                + "0.0.0.0:3000 for every interface); got \"3000\"");
    assertThatThrownBy(
            () ->
                config(
                    Map.of(
                        SlackPlatform.BOT_TOKEN,
                        BOT,
                        SlackPlatform.APP_TOKEN,
                        "xapp-1",
                        SlackPlatform.API_URL,
                        "slack.example.com")))
        .hasMessage(
            "FLUXBOT_SLACK_API_URL: must be an http(s) URL such as https://slack.com/api/; got \"slack.example.com\".");
  }

  @Test
  void mistakesInTheFileNameTheSetting() throws Exception {
    Environment env =
        new Environment(
            Map.of(
                SlackPlatform.BOT_TOKEN,
                BOT,
                SlackPlatform.APP_TOKEN,
                "xapp-1",
                SlackPlatform.SIGNING_SECRET,
                "s"));
    FluxbotConfig.Slack badMode = yaml("mode: webhook");
    FluxbotConfig.Slack badListen = yaml("mode: http\nhttp_listen: localhost");
    FluxbotConfig.Slack badUrl = yaml("api_base_url: ftp://slack.example.com/");
    FluxbotConfig.Slack missing = yaml("app_token_file: " + dir.resolve("no-such-file"));

    assertThatThrownBy(() -> SlackPlatform.config(env, badMode))
        .hasMessage(
            "slack.mode: must be socket or http; got \"webhook\". Leave it unset for Socket Mode.");
    assertThatThrownBy(() -> SlackPlatform.config(env, badListen))
        .hasMessageStartingWith("slack.http_listen: must be " + "HOST:PORT");
    assertThatThrownBy(() -> SlackPlatform.config(env, badUrl))
        .hasMessageStartingWith("slack.api_base_url: must be an " + "http(s) URL");
    assertThatThrownBy(
            () ->
                SlackPlatform.config(
                    new Environment(Map.of(SlackPlatform.BOT_TOKEN, BOT)), missing))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .hasMessageStartingWith("slack.app_token_file: cannot read " + dir.resolve("no-such-file"))
        .hasMessageEndingWith("fix the path or set FLUXBOT_SLACK_APP_TOKEN instead.");
  }
}
