package dev.fluxbot.app;

import dev.fluxbot.core.Secret;
import dev.fluxbot.slack.SlackBot;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;

/**
 * Slack for {@code fluxbot run}: the {@code slack} section of {@code fluxbot.yaml}, where each
 * setting's environment variable wins. On when a bot token is given ({@value #BOT_TOKEN}, or the
 * file {@code slack.bot_token_file} names).
 *
 * <ul>
 *   <li>{@value #MODE} ({@code slack.mode}): {@code socket} (the default; needs {@value #APP_TOKEN}
 *       or {@code slack.app_token_file}) or {@code http} (needs {@value #SIGNING_SECRET} or {@code
 *       slack.signing_secret_file}; listens on {@value #HTTP_LISTEN} ({@code slack.http_listen}),
 *       default {@value #DEFAULT_LISTEN}, at {@code /slack/events})
 *   <li>{@value #API_URL} ({@code slack.api_base_url}): the Web API's prefix, default Slack's
 *       ({@code https://slack.com/api/})
 *   <li>{@value #ADMINS} (comma-separated; {@code slack.admin_user_ids}): user ids who may run
 *       {@code /imagine-admin} besides the workspace's admins and owners
 * </ul>
 *
 * <p>A mistake is reported under the name it came from: the variable if it is set, else the
 * setting.
 */
final class SlackPlatform {
  static final String BOT_TOKEN = "FLUXBOT_SLACK_BOT_TOKEN";
  static final String APP_TOKEN = "FLUXBOT_SLACK_APP_TOKEN";
  static final String SIGNING_SECRET = "FLUXBOT_SLACK_SIGNING_SECRET";
  static final String MODE = "FLUXBOT_SLACK_MODE";
  static final String API_URL = "FLUXBOT_SLACK_API_URL";
  static final String HTTP_LISTEN = "FLUXBOT_SLACK_HTTP_LISTEN";
  static final String ADMINS = "FLUXBOT_SLACK_ADMINS";
  static final String DEFAULT_LISTEN = "127.0.0.1:3000";

  private SlackPlatform() {}

  /** A value and the name it was given under: a variable, or a setting of {@code fluxbot.yaml}. */
  private record Named(String name, String value) {}

  /** The variable's value if it is set, else the setting's (null if neither is). */
  private static Named pick(Environment env, String variable, String setting, String configured) {
    Optional<String> fromEnv = env.get(variable);
    if (fromEnv.isPresent()) {
      return new Named(variable, fromEnv.get());
    }
    return new Named(
        setting, configured == null || configured.isBlank() ? null : configured.strip());
  }

  /**
   * The bot's settings, or empty where Slack is not configured.
   *
   * @throws FluxbotConfig.ConfigException naming the variable or setting, the rule, the value and
   *     the fix
   */
  static Optional<SlackBot.Config> config(Environment env, FluxbotConfig.Slack yaml) {
    Optional<Secret> bot = env.secret(BOT_TOKEN, yaml.botTokenFile(), "slack.bot_token_file");
    if (bot.isEmpty()) {
      return Optional.empty();
    }
    SlackBot.Mode m = mode(pick(env, MODE, "slack.mode", yaml.mode()));
    Secret app = env.secret(APP_TOKEN, yaml.appTokenFile(), "slack.app_token_file").orElse(null);
    if (m == SlackBot.Mode.SOCKET && app == null) {
      throw new FluxbotConfig.ConfigException(
          APP_TOKEN
              + " (or slack.app_token_file): Socket Mode needs an app-level "
              + "token (xapp-…) with connections:write; none is set. Make one under Basic Information → App-Level Tokens, "
              + "or use HTTP mode.");
    }
    Secret signing =
        env.secret(SIGNING_SECRET, yaml.signingSecretFile(), "slack.signing_secret_file")
            .orElse(null);
    if (m == SlackBot.Mode.HTTP && signing == null) {
      throw new FluxbotConfig.ConfigException(
          SIGNING_SECRET
              + " (or slack.signing_secret_file): HTTP mode checks "
              + "every request with the app's signing secret; none is set. Copy it from Basic Information → App "
              + "Credentials.");
    }
    Named apiUrl = checkedApiUrl(pick(env, API_URL, "slack.api_base_url", yaml.apiBaseUrl()));
    Set<String> admins = admins(env, yaml);
    Named listen = pick(env, HTTP_LISTEN, "slack.http_listen", yaml.httpListen());
    try {
      return Optional.of(
          new SlackBot.Config(
              m,
              bot.get(),
              app,
              signing,
              apiUrl.value(),
              listen(listen.name(), Objects.requireNonNullElse(listen.value(), DEFAULT_LISTEN)),
              admins));
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException(e.getMessage());
    }
  }

  /** Socket Mode unless {@code mode} says http. */
  private static SlackBot.Mode mode(Named mode) {
    return switch (Objects.requireNonNullElse(mode.value(), "socket").toLowerCase(Locale.ROOT)) {
      case "socket" -> SlackBot.Mode.SOCKET;
      case "http" -> SlackBot.Mode.HTTP;
      default ->
          throw new FluxbotConfig.ConfigException(
              mode.name()
                  + ": must be socket or http; got \""
                  + mode.value()
                  + "\". Leave it unset for Socket Mode.");
    };
  }

  /** The Web API's prefix as given, once it is an http(s) URL; null for Slack's. */
  private static Named checkedApiUrl(Named apiUrl) {
    if (apiUrl.value() != null
        && !(apiUrl.value().startsWith("https://") || apiUrl.value().startsWith("http://"))) {
      throw new FluxbotConfig.ConfigException(
          apiUrl.name()
              + ": must be an http(s) URL such as https://slack.com/api/; "
              + "got \""
              + apiUrl.value()
              + "\".");
    }
    return apiUrl;
  }

  /** The admins' user ids: the variable's comma-separated list, else the setting's. */
  private static Set<String> admins(Environment env, FluxbotConfig.Slack yaml) {
    List<String> adminList =
        env.get(ADMINS).map(list -> Arrays.asList(list.split(","))).orElse(yaml.adminUserIds());
    return adminList.stream()
        .map(String::strip)
        .filter(s -> !s.isEmpty())
        .collect(Collectors.toUnmodifiableSet());
  }

  /** The bot on the app's core; start it with {@link SlackBot#start}. */
  static SlackBot bot(SlackBot.Config config, Wiring wiring) {
    OkHttpClient http =
        new OkHttpClient.Builder()
            .connectTimeout(Duration.ofSeconds(10))
            .readTimeout(Duration.ofSeconds(60))
            .build();
    return new SlackBot(config, wiring.chatServices(), http);
  }

  /**
   * {@code HOST:PORT} as {@code web.listen} takes it; port 0 is refused (Slack needs to know the
   * port).
   */
  static InetSocketAddress listen(String name, String hostPort) {
    InetSocketAddress a = FluxbotConfig.Web.address(name, hostPort, DEFAULT_LISTEN);
    return new InetSocketAddress(a.getHostString(), a.getPort());
  }
}
