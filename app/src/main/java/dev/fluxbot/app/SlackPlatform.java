package dev.fluxbot.app;

import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.slack.SlackBot;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;

/**
 * Slack for {@code fluxbot run}, from the environment; on when {@value #BOT_TOKEN} is set.
 *
 * <ul>
 *   <li>{@value #MODE}: {@code socket} (the default; needs {@value #APP_TOKEN}) or {@code http}
 *       (needs {@value #SIGNING_SECRET}; listens on {@value #HTTP_LISTEN}, default {@value #DEFAULT_LISTEN},
 *       at {@code /slack/events})
 *   <li>{@value #API_URL}: the Web API's prefix, default Slack's ({@code https://slack.com/api/})
 *   <li>{@value #ADMINS}: user ids (comma-separated) who may run {@code /imagine-admin} besides the
 *       workspace's admins and owners
 * </ul>
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

  /**
   * The bot's settings, or empty where Slack is not configured.
   *
   * @throws FluxbotConfig.ConfigException naming the variable, the rule, the value and the fix
   */
  static Optional<SlackBot.Config> config(Environment env) {
    Optional<String> bot = env.get(BOT_TOKEN);
    if (bot.isEmpty()) {
      return Optional.empty();
    }
    String mode = env.get(MODE).orElse("socket").toLowerCase(Locale.ROOT);
    SlackBot.Mode m = switch (mode) {
      case "socket" -> SlackBot.Mode.SOCKET;
      case "http" -> SlackBot.Mode.HTTP;
      default -> throw new FluxbotConfig.ConfigException(MODE + ": must be socket or http; got \"" + mode
          + "\". Leave it unset for Socket Mode.");
    };
    String apiUrl = env.get(API_URL).orElse(null);
    if (apiUrl != null && !(apiUrl.startsWith("https://") || apiUrl.startsWith("http://"))) {
      throw new FluxbotConfig.ConfigException(API_URL + ": must be an http(s) URL such as https://slack.com/api/; got \""
          + apiUrl + "\".");
    }
    Set<String> admins = Arrays.stream(env.get(ADMINS).orElse("").split(",")).map(String::strip)
        .filter(s -> !s.isEmpty()).collect(Collectors.toUnmodifiableSet());
    try {
      return Optional.of(new SlackBot.Config(m, Secret.of(bot.get()), env.get(APP_TOKEN).map(Secret::of).orElse(null),
          env.get(SIGNING_SECRET).map(Secret::of).orElse(null), apiUrl,
          listen(env.get(HTTP_LISTEN).orElse(DEFAULT_LISTEN)), admins));
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException(e.getMessage());
    }
  }

  /** The bot on the app's core; start it with {@link SlackBot#start}. */
  static SlackBot bot(SlackBot.Config config, Wiring wiring) {
    OkHttpClient http = new OkHttpClient.Builder().connectTimeout(Duration.ofSeconds(10))
        .readTimeout(Duration.ofSeconds(60)).build();
    return new SlackBot(config, new SlackBot.Services(wiring.imagine, wiring.quota, wiring.jobs, wiring.settings,
        wiring.catalog, InstantSource.system(), Sleeper.SYSTEM, http, wiring.scheduler::queued));
  }

  static InetSocketAddress listen(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    try {
      int port = Integer.parseInt(hostPort.substring(colon + 1));
      if (colon <= 0 || port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return new InetSocketAddress(hostPort.substring(0, colon), port);
    } catch (NumberFormatException e) {
      throw new FluxbotConfig.ConfigException(HTTP_LISTEN + ": must be host:port, such as " + DEFAULT_LISTEN
          + " or 0.0.0.0:3000; got \"" + hostPort + "\".");
    }
  }
}
