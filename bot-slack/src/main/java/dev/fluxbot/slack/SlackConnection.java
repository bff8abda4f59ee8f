package dev.fluxbot.slack;

import com.slack.api.Slack;
import com.slack.api.SlackConfig;
import com.slack.api.bolt.App;
import com.slack.api.bolt.AppConfig;
import com.slack.api.bolt.socket_mode.SocketModeApp;
import com.slack.api.methods.response.auth.AuthTestResponse;
import com.slack.api.socket_mode.SocketModeClient;
import dev.fluxbot.core.Sleeper;
import java.net.URI;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a {@link SlackBot} reaches Slack and Slack reaches it: the Web API client checked with {@code
 * auth.test}, then the Bolt app over Socket Mode or a Request URL, and their orderly close.
 */
final class SlackConnection {
  // logs under SlackBot's name, as before the split
  private static final Logger log = LoggerFactory.getLogger(SlackBot.class);

  private final SlackBot.Config config;
  private Slack slack;
  private SlackApi api;
  private App app;
  private SocketModeApp socket;
  private RequestUrlServer server;

  /** The connection as Bolt's listeners last told it; see {@link #connection}. */
  private volatile dev.fluxbot.core.chat.ChatConnection.Status status =
      dev.fluxbot.core.chat.ChatConnection.Status.connecting("not started");

  SlackConnection(SlackBot.Config config) {
    this.config = config;
  }

  /**
   * Makes the Web API client and checks the bot token with it ({@code auth.test}).
   *
   * @throws IllegalStateException with a clear message when Slack refuses the token or cannot be
   *     reached
   */
  AuthTestResponse open(Sleeper sleeper) {
    SlackConfig sc = new SlackConfig();
    // The SDK's call statistics look up the team with an auth.test of their own before each call
    // and log
    // its failure as an ERROR with a stack trace; the bot keeps no such statistics and says what
    // failed itself.
    sc.setStatsEnabled(false);
    if (config.apiBaseUrl() != null) {
      sc.setMethodsEndpointUrlPrefix(config.apiBaseUrl());
    }
    slack = Slack.getInstance(sc);
    api = new SlackApi(slack.methods(config.botToken().reveal()), sleeper);
    try {
      return api.call("auth.test", () -> api.methods().authTest(r -> r));
    } catch (SlackApi.SlackCallException e) {
      throw new IllegalStateException(whyNotOpen(e, config.apiBaseUrl()), e);
    }
  }

  /** Slack's answers to auth.test that mean the token itself is refused. */
  private static final java.util.Set<String> TOKEN_REFUSED =
      java.util.Set.of(
          "invalid_auth",
          "not_authed",
          "account_inactive",
          "token_revoked",
          "token_expired",
          "not_allowed_token_type",
          "no_permission",
          "missing_scope",
          "ekm_access_denied");

  /**
   * Why auth.test failed, in one line: Slack not reached at all, Slack refusing the token (only
   * when its answer says so), or any other answer as Slack gave it.
   */
  static String whyNotOpen(SlackApi.SlackCallException e, String apiBaseUrl) {
    var network = dev.fluxbot.core.chat.Unreachable.cause(e);
    if (network.isPresent()) {
      return dev.fluxbot.core.chat.Unreachable.message(
          "Slack",
          "auth.test",
          network.get(),
          apiBaseUrl == null
              ? "slack.com"
              : java.net.URI.create(apiBaseUrl).getHost() + " (slack.api_base_url)");
    }
    if (e.error != null && TOKEN_REFUSED.contains(e.error)) {
      return "Slack refused the bot token (FLUXBOT_SLACK_BOT_TOKEN): "
          + e.getMessage()
          + ". Copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions.";
    }
    return e.getMessage()
        + ": Slack did not take the bot in, but did not refuse the token either; try again in a"
        + " minute, and see https://slack-status.com if it persists.";
  }

  /** The Web API client; null before {@link #open}. */
  SlackApi api() {
    return api;
  }

  /**
   * A new Bolt app on the bot token (and the signing secret in HTTP mode); the caller registers its
   * handlers.
   */
  App app() {
    AppConfig.AppConfigBuilder ac =
        AppConfig.builder().singleTeamBotToken(config.botToken().reveal()).slack(slack);
    if (config.mode() == SlackBot.Mode.HTTP) {
      ac.signingSecret(config.signingSecret().reveal());
    }
    app = new App(ac.build());
    return app;
  }

  /**
   * Connects (Socket Mode) or starts serving the Request URL (HTTP mode), with the handlers now
   * registered on {@link #app}.
   */
  void serve(AuthTestResponse auth) {
    if (config.mode() == SlackBot.Mode.SOCKET) {
      try {
        socket =
            new SocketModeApp(
                config.appToken().reveal(), SocketModeClient.Backend.JavaWebSocket, app);
        socket.startAsync();
        watch(socket.getClient());
      } catch (Exception e) {
        throw new IllegalStateException(
            "Slack refused Socket Mode with the app token (FLUXBOT_SLACK_APP_TOKEN): "
                + e.getMessage()
                + ". Make an app-level token with connections:write under Basic Information and turn "
                + "Socket Mode on.",
            e);
      }
    } else {
      app.start();
      server = new RequestUrlServer(app, config.httpListen());
    }
    status =
        dev.fluxbot.core.chat.ChatConnection.Status.connected(
            config.mode() == SlackBot.Mode.SOCKET ? "Socket Mode" : "HTTP mode");
    log.info(
        "slack: connected to {} as {} ({})",
        auth.getTeam(),
        auth.getUser(),
        config.mode() == SlackBot.Mode.SOCKET
            ? "Socket Mode"
            : "HTTP mode at " + server.requestUrl());
  }

  /**
   * Socket Mode: disconnected when the WebSocket closes (Bolt reconnects by itself), connected
   * again with the next message Slack sends on it (its {@code hello} first).
   */
  private void watch(SocketModeClient client) {
    if (client == null) {
      return;
    }
    client.addWebSocketCloseListener(
        (code, reason) ->
            status =
                dev.fluxbot.core.chat.ChatConnection.Status.disconnected(
                    "Socket Mode: the WebSocket closed (" + code + ")"));
    client.addWebSocketMessageListener(
        message -> {
          if (!status.connected()) {
            status = dev.fluxbot.core.chat.ChatConnection.Status.connected("Socket Mode");
          }
        });
  }

  /** The connection now, as the last event said; no I/O. */
  dev.fluxbot.core.chat.ChatConnection.Status connection() {
    return status;
  }

  /** HTTP mode's Request URL on this machine; empty in Socket Mode. */
  Optional<URI> requestUrl() {
    return Optional.ofNullable(server).map(RequestUrlServer::requestUrl);
  }

  /** Stops what {@link #open} and {@link #serve} started, whatever of it started. */
  void close() {
    status = dev.fluxbot.core.chat.ChatConnection.Status.disconnected("closed");
    if (server != null) {
      server.close();
    }
    try {
      if (socket != null) {
        closeSocketMode(socket);
      }
      if (app != null && config.mode() == SlackBot.Mode.HTTP) {
        app.stop();
      }
      if (slack != null) {
        slack.close();
      }
    } catch (Exception e) {
      log.warn("slack: did not close cleanly: {}", e.toString());
    }
  }

  /**
   * Closes the Socket Mode client itself, then the app. Bolt's {@code SocketModeApp.close} alone
   * disconnects only if a ping is answered within 3 s, and never stops the client's threads: on a
   * loaded machine the connection stayed open, and Slack went on sending events to a closed bot.
   */
  private static void closeSocketMode(SocketModeApp socket) throws Exception {
    SocketModeClient client = socket.getClient();
    if (client != null) {
      client.close(); // no more reconnects; disconnects; stops the session monitor and the message
      // threads
      Optional<ScheduledExecutorService> monitor = client.getSessionMonitorExecutor();
      if (monitor.isPresent() && !monitor.get().awaitTermination(5, TimeUnit.SECONDS)) {
        log.warn("slack: the Socket Mode session monitor did not stop within 5 s");
      }
      client.disconnect(); // a reconnection the monitor had begun before it stopped
    }
    socket.close();
  }
}
