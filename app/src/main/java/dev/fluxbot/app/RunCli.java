package dev.fluxbot.app;

import dev.fluxbot.core.Secret;
import dev.fluxbot.discord.DiscordBot;
import dev.fluxbot.discord.OriginalLinks;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fluxbot run}: the bot. Starts every configured platform on the embedded defaults, picks
 * up what a previous run left unfinished, and on SIGTERM lets running jobs finish (queued ones
 * stay queued in the database for the next start).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Runs the bot on every configured chat platform until stopped (SIGTERM or Ctrl-C).",
        "Discord: set FLUXBOT_DISCORD_TOKEN. Images: BFL_API_KEY.",
        "Download links to originals: web.public_url in the config (key: FLUXBOT_WEB_SECRET or data/web-secret)."})
final class RunCli implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(RunCli.class);

  @CommandLine.ParentCommand
  Main main;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--grace", defaultValue = "30", paramLabel = "SECONDS",
      description = "On shutdown, how long running jobs may take to finish (default: 30).")
  int graceSeconds;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter err = spec.commandLine().getErr();
    main.logLevelAtLeastInfo();
    FluxbotConfig config;
    Wiring wiring;
    try {
      config = main.loadConfig(main.environment);
      wiring = new Wiring(config, main.environment);
    } catch (FluxbotConfig.ConfigException e) {
      err.println("fluxbot: " + e.getMessage());
      return Main.USER_ERROR;
    }
    DiscordBot discord = null;
    OriginalsServer web = null;
    try {
      Optional<Secret> discordToken = main.environment.secret(Environment.DISCORD_TOKEN, config.discord().tokenFile(),
          "discord.token_file");
      if (discordToken.isEmpty()) {
        err.println("fluxbot: no chat platform is configured. For Discord, set FLUXBOT_DISCORD_TOKEN to the bot's token "
            + "(Developer Portal → your app → Bot → Reset Token) and run again.");
        wiring.close();
        return Main.USER_ERROR;
      }
      log.info("backend bfl: {} ({})", wiring.bfl.config().baseUrl(),
          wiring.bfl.config().apiKey() == null ? "NO KEY: set BFL_API_KEY" : "key set");
      SignedLinks links;
      try {
        links = signedLinks(config);
      } catch (FluxbotConfig.ConfigException e) {
        err.println("fluxbot: " + e.getMessage());
        wiring.close();
        return Main.USER_ERROR;
      }
      OriginalLinks originals = links == null ? OriginalLinks.NONE : jobId -> Optional.of(links.linkFor(jobId));
      discord = new DiscordBot(new DiscordBot.Config(discordToken.get(),
          main.environment.get(Environment.DISCORD_REST_URL).orElse(config.discord().restBaseUrl()),
          main.environment.get(Environment.DISCORD_GATEWAY_URL).orElse(config.discord().gatewayUrl()),
          new HashSet<>(config.discord().adminRoles()), config.discord().allowDms()),
          new DiscordBot.Services(wiring.imagine, wiring.quota, wiring.jobs, wiring.settings, wiring.catalog,
              InstantSource.system(), originals));
      try {
        discord.start(); // a bad token fails before any port is taken
        web = links == null ? null : startWeb(config.web(), links, wiring);
      } catch (IllegalStateException | FluxbotConfig.ConfigException e) {
        err.println("fluxbot: " + e.getMessage());
        discord.close();
        wiring.close();
        return Main.USER_ERROR;
      }
      log.info("platform discord: ready");
      DiscordBot bot = discord;
      var resumed = wiring.imagine.resumeUnfinished(j -> !"cli".equals(j.requester().platform()),
          j -> bot.replyFor(j).orElse(null));
      if (!resumed.isEmpty()) {
        log.info("resumed {} job(s) left from the last run", resumed.size());
      }
      err.println("fluxbot: running (discord). Stop with Ctrl-C or SIGTERM.");
      err.flush();
      CountDownLatch stopped = new CountDownLatch(1);
      CountDownLatch done = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        stopped.countDown();
        try {
          done.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "fluxbot-shutdown"));
      stopped.await();
      log.info("stopping: running jobs get {} s to finish; queued ones wait for the next start", graceSeconds);
      wiring.shutdown(Duration.ofSeconds(graceSeconds));
      discord.close();
      closeWeb(web);
      wiring.close();
      done.countDown();
      return Main.OK;
    } catch (RuntimeException e) {
      if (discord != null) {
        discord.close();
      }
      closeWeb(web);
      wiring.close();
      throw e;
    }
  }

  /** The signer of links to originals where {@code web.public_url} is set, else null; reads or makes its key. */
  private SignedLinks signedLinks(FluxbotConfig config) {
    FluxbotConfig.Web w = config.web();
    if (!w.enabled()) {
      log.info("web: off; a preview names the job whose original an admin can save (set web.public_url for links)");
      return null;
    }
    WebSecret.Key key = WebSecret.load(main.environment, Path.of(config.storage().dataDir()));
    log.info("web: download links signed with the key from {}, good for {} days", key.source(), w.linkDays());
    return new SignedLinks(key.bytes(), w.publicUrl(), Duration.ofDays(w.linkDays()), InstantSource.system());
  }

  private static OriginalsServer startWeb(FluxbotConfig.Web w, SignedLinks links, Wiring wiring) {
    OriginalsServer web = OriginalsServer.start(w.address(), links, wiring.jobs, wiring.images, InstantSource.system());
    log.info("web: serving originals on {}:{} as {}{}…", web.address().getHostString(), web.address().getPort(),
        w.publicUrl(), SignedLinks.PATH);
    return web;
  }

  private static void closeWeb(OriginalsServer web) {
    if (web != null) {
      web.close();
    }
  }

}
