package dev.fluxbot.testkit;

import java.util.concurrent.CountDownLatch;

/**
 * Runs the fake BFL API and the fake Discord, Telegram and Slack on loopback, on their own, for
 * measuring a real {@code fluxbot run} against them (the idle-memory figures of
 * docs/benchmarks.md): prints one line of environment variables per platform, then serves until the
 * process is stopped.
 *
 * <pre>
 * bfl FLUXBOT_BFL_BASE_URL=… BFL_API_KEY=…
 * discord FLUXBOT_DISCORD_TOKEN=… FLUXBOT_DISCORD_REST_URL=… FLUXBOT_DISCORD_GATEWAY_URL=…
 * telegram FLUXBOT_TELEGRAM_TOKEN=… FLUXBOT_TELEGRAM_API_URL=…
 * slack FLUXBOT_SLACK_BOT_TOKEN=… FLUXBOT_SLACK_APP_TOKEN=… FLUXBOT_SLACK_API_URL=…
 * </pre>
 */
public final class FakePlatformsMain {
  private FakePlatformsMain() {}

  public static void main(String[] args) throws InterruptedException {
    FakeBflApi bfl = FakeBflApi.builder().start();
    FakeDiscord discord = FakeDiscord.start();
    FakeTelegram telegram = FakeTelegram.start();
    FakeSlack slack = FakeSlack.start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  slack.close();
                  telegram.close();
                  discord.close();
                  bfl.close();
                  stopped.countDown();
                }));
    System.out.println("bfl FLUXBOT_BFL_BASE_URL=" + bfl.baseUrl() + " BFL_API_KEY=" + bfl.key());
    System.out.println(
        "discord FLUXBOT_DISCORD_TOKEN="
            + discord.token()
            + " FLUXBOT_DISCORD_REST_URL="
            + discord.restBaseUrl()
            + " FLUXBOT_DISCORD_GATEWAY_URL="
            + discord.gatewayUrl());
    System.out.println(
        "telegram FLUXBOT_TELEGRAM_TOKEN="
            + telegram.token()
            + " FLUXBOT_TELEGRAM_API_URL="
            + telegram.baseUrl());
    System.out.println(
        "slack FLUXBOT_SLACK_BOT_TOKEN="
            + slack.botToken()
            + " FLUXBOT_SLACK_APP_TOKEN="
            + slack.appToken()
            + " FLUXBOT_SLACK_API_URL="
            + slack.apiUrl());
    System.out.flush();
    stopped.await();
  }
}
