package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.slack.SlackBot;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Slack's settings for {@code fluxbot run}, from the environment. */
class SlackPlatformTest {
  private static final String BOT = "xoxb-1-2-abc";

  private static SlackBot.Config config(Map<String, String> vars) {
    return SlackPlatform.config(new Environment(vars)).orElseThrow();
  }

  @Test
  void withoutABotTokenSlackIsOff() {
    assertThat(SlackPlatform.config(new Environment(Map.of(SlackPlatform.APP_TOKEN, "xapp-1")))).isEmpty();
  }

  @Test
  void socketModeIsTheDefaultAndNeedsTheAppToken() {
    SlackBot.Config c = config(Map.of(SlackPlatform.BOT_TOKEN, BOT, SlackPlatform.APP_TOKEN, "xapp-1-A-3-x",
        SlackPlatform.ADMINS, " U1, U2 ,,"));
    assertThat(c.mode()).isEqualTo(SlackBot.Mode.SOCKET);
    assertThat(c.adminUserIds()).isEqualTo(Set.of("U1", "U2"));
    assertThat(c.apiBaseUrl()).isNull();
    assertThatThrownBy(() -> config(Map.of(SlackPlatform.BOT_TOKEN, BOT)))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .hasMessageStartingWith("FLUXBOT_SLACK_APP_TOKEN: Socket Mode needs an app-level token (xapp-…)");
  }

  @Test
  void httpModeNeedsTheSigningSecretAndListensWhereToldAt() {
    SlackBot.Config c = config(Map.of(SlackPlatform.BOT_TOKEN, BOT, SlackPlatform.MODE, "HTTP",
        SlackPlatform.SIGNING_SECRET, "s3cret", SlackPlatform.HTTP_LISTEN, "0.0.0.0:8080",
        SlackPlatform.API_URL, "http://127.0.0.1:9/api"));
    assertThat(c.mode()).isEqualTo(SlackBot.Mode.HTTP);
    assertThat(c.httpListen()).isEqualTo(new InetSocketAddress("0.0.0.0", 8080));
    assertThat(c.apiBaseUrl()).isEqualTo("http://127.0.0.1:9/api/");
    assertThatThrownBy(() -> config(Map.of(SlackPlatform.BOT_TOKEN, BOT, SlackPlatform.MODE, "http")))
        .hasMessageStartingWith("FLUXBOT_SLACK_SIGNING_SECRET: HTTP mode checks every request");
  }

  @Test
  void mistakesNameTheVariableAndTheValue() {
    assertThatThrownBy(() -> config(Map.of(SlackPlatform.BOT_TOKEN, BOT, SlackPlatform.MODE, "webhook")))
        .hasMessage("FLUXBOT_SLACK_MODE: must be socket or http; got \"webhook\". Leave it unset for Socket Mode.");
    assertThatThrownBy(() -> SlackPlatform.listen("3000"))
        .hasMessage("FLUXBOT_SLACK_HTTP_LISTEN: must be host:port, such as 127.0.0.1:3000 or 0.0.0.0:3000; got \"3000\".");
    assertThatThrownBy(() -> config(Map.of(SlackPlatform.BOT_TOKEN, BOT, SlackPlatform.APP_TOKEN, "xapp-1",
        SlackPlatform.API_URL, "slack.example.com")))
        .hasMessage("FLUXBOT_SLACK_API_URL: must be an http(s) URL such as https://slack.com/api/; got \"slack.example.com\".");
  }
}
