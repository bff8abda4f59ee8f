package dev.fluxbot.app;

import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.bfl.BflWebhooks;
import dev.fluxbot.core.store.BackendCalls;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.discord.DiscordBot;
import dev.fluxbot.discord.OriginalLinks;
import dev.fluxbot.discord.Shards;
import dev.fluxbot.slack.SlackBot;
import dev.fluxbot.telegram.TelegramBot;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fluxbot run}: the bot. Starts every configured platform on the embedded defaults, picks up
 * what a previous run left unfinished, and on SIGTERM lets running jobs finish (queued ones stay
 * queued in the database for the next start).
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the bot on every configured chat platform until stopped (SIGTERM or Ctrl-C).",
      "Discord: set FLUXBOT_DISCORD_TOKEN. Telegram: set FLUXBOT_TELEGRAM_TOKEN.",
      "Slack: set FLUXBOT_SLACK_BOT_TOKEN and FLUXBOT_SLACK_APP_TOKEN (Socket Mode), or FLUXBOT_SLACK_MODE=http with"
          + " FLUXBOT_SLACK_SIGNING_SECRET. Images: BFL_API_KEY.",
      "Download links to originals: web.public_url in the config (key: FLUXBOT_WEB_SECRET or data/web-secret)."
    })
final class RunCli implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(RunCli.class);

  @CommandLine.ParentCommand Main main;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--grace",
      defaultValue = "30",
      paramLabel = "SECONDS",
      description = "On shutdown, how long running jobs may take to finish (default: 30).")
  int graceSeconds;

  /** The operations listener once started ({@code ops.listen}); null while off or not yet. */
  private OpsServer ops;

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
    Optional<Chats> chats = preflight(err, config, wiring);
    if (chats.isEmpty()) {
      return Main.USER_ERROR;
    }
    List<Platform> platforms = new ArrayList<>();
    OriginalsServer web = null;
    try {
      logBackends(wiring);
      ImagineService.Leftovers leftovers =
          wiring.imagine.leftovers(); // before any platform can make a job
      try {
        web = startPlatforms(config, chats.get(), wiring, platforms);
      } catch (IllegalStateException
          | IllegalArgumentException
          | java.io.UncheckedIOException
          | FluxbotConfig.ConfigException e) {
        err.println("fluxbot: " + e.getMessage());
        platforms.forEach(Platform::close);
        closeOps();
        wiring.close();
        return Main.USER_ERROR;
      }
      resume(wiring, leftovers, platforms);
      var sweep = takeOverOrphans(wiring, platforms);
      CountDownLatch done = runUntilStopped(err, platforms);
      if (ops != null) {
        ops.stopping(); // /readyz says 503 while the jobs finish
      }
      try {
        sweep.shutdownNow();
        wiring.shutdown(Duration.ofSeconds(graceSeconds));
        unregister(wiring);
        closeAll(platforms, web, wiring);
      } finally {
        done.countDown(); // the shutdown hook waits on this; a failed close must not hang the exit
      }
      return Main.OK;
    } catch (RuntimeException e) {
      closeAll(platforms, web, wiring);
      throw e;
    }
  }

  /**
   * What must hold before anything starts: a chat platform configured, a backend that can make
   * images, this instance recorded and the image store usable. Empty, with the wiring closed and
   * the reason said, when one does not.
   */
  private Optional<Chats> preflight(PrintWriter err, FluxbotConfig config, Wiring wiring) {
    Optional<Chats> chats = chats(err, config, wiring); // closes the wiring when empty
    if (chats.isEmpty()) {
      return chats;
    }
    if (!backendsCanServe(err, config, wiring)) {
      wiring.close();
      return Optional.empty();
    }
    return startInstance(err, wiring) ? chats : Optional.empty();
  }

  /**
   * Records this instance (a second live process with its id is refused), checks the image store
   * and starts the local runtime; false, with the wiring closed, after saying why it cannot.
   */
  private static boolean startInstance(PrintWriter err, Wiring wiring) {
    try {
      wiring.core.leases().register();
      wiring.start(); // S3 that does not answer or refuses us: said now, not at the first job
      return true;
    } catch (FluxbotConfig.ConfigException
        | IllegalStateException
        | java.io.UncheckedIOException e) {
      err.println("fluxbot: " + e.getMessage());
      wiring.close();
      return false;
    }
  }

  private void closeAll(List<Platform> platforms, OriginalsServer web, Wiring wiring) {
    platforms.forEach(Platform::close);
    closeWeb(web);
    closeOps();
    wiring.close();
  }

  private void closeOps() {
    if (ops != null) {
      ops.close();
      ops = null;
    }
  }

  /**
   * Starts the operations listener where {@code ops.listen} is not off, with the platforms' own
   * connection states; a taken port is an {@link IllegalStateException} saying so in one line.
   */
  private void startOps(FluxbotConfig config, Wiring wiring, List<Platform> platforms) {
    var listen = config.ops().address(main.environment);
    if (listen.isEmpty()) {
      log.info("ops: off (ops.listen); no /healthz, /readyz or /metrics");
      return;
    }
    List<dev.fluxbot.core.chat.ChatConnection> connections =
        platforms.stream().map(Platform::connection).toList();
    Readiness readiness =
        new Readiness(wiring.db, wiring.quota, wiring.bfl, wiring.local, () -> connections);
    ops = OpsServer.start(listen.get(), wiring.meters, readiness, connections);
  }

  /** The configured chat platforms' credentials; each present one is started. */
  private record Chats(
      Optional<Secret> discord,
      Shards discordShards,
      Optional<Secret> telegram,
      Optional<SlackBot.Config> slack) {}

  /**
   * The chat platforms' credentials; empty, with the wiring closed, after telling the user why none
   * can run.
   */
  private Optional<Chats> chats(PrintWriter err, FluxbotConfig config, Wiring wiring) {
    Optional<Secret> discordToken =
        main.environment.secret(
            Environment.DISCORD_TOKEN, config.discord().tokenFile(), "discord.token_file");
    Optional<Secret> telegramToken =
        main.environment.secret(
            Environment.TELEGRAM_TOKEN, config.telegram().tokenFile(), "telegram.token_file");
    Optional<SlackBot.Config> slackConfig;
    Shards discordShards;
    try {
      slackConfig = SlackPlatform.config(main.environment, config.slack());
      discordShards = DiscordSharding.shards(main.environment, config.discord());
    } catch (FluxbotConfig.ConfigException | IllegalArgumentException e) {
      err.println("fluxbot: " + e.getMessage());
      wiring.close();
      return Optional.empty();
    }
    if (discordToken.isEmpty() && telegramToken.isEmpty() && slackConfig.isEmpty()) {
      err.println(
          "fluxbot: no chat platform is configured. For Discord, set FLUXBOT_DISCORD_TOKEN to the bot's token "
              + "(Developer Portal → your app → Bot → Reset Token); for Telegram, set FLUXBOT_TELEGRAM_TOKEN to the token "
              + "@BotFather gave you; for Slack, set FLUXBOT_SLACK_BOT_TOKEN (xoxb-…) and FLUXBOT_SLACK_APP_TOKEN (xapp-…, "
              + "Socket Mode). Then run again.");
      wiring.close();
      return Optional.empty();
    }
    return Optional.of(new Chats(discordToken, discordShards, telegramToken, slackConfig));
  }

  /**
   * With no BFL key and no local klein runtime no image could ever be made: {@code run} refuses to
   * start (false, after saying so) instead of letting users learn it at their first {@code
   * /imagine}. With a local runtime but no key only klein can be served: said loudly, and started.
   */
  static boolean backendsCanServe(PrintWriter err, FluxbotConfig config, Wiring wiring) {
    if (wiring.bfl.config().apiKey() != null) {
      return true;
    }
    if (!config.local().enabled()) {
      err.println(
          "fluxbot: no backend can make images: set BFL_API_KEY (create a key at"
              + " https://dashboard.bfl.ai, API keys) or bfl.api_key_file in fluxbot.yaml, or"
              + " configure a local klein worker (the local: section; see docs/local-klein.md)");
      return false;
    }
    log.warn(
        "NO BFL API KEY: only klein is served, on the local worker(s); /imagine with pro, max or"
            + " flex is refused{} until BFL_API_KEY (or bfl.api_key_file) is set",
        config.local().fallbackToBfl() ? ", and klein has no fallback to BFL," : "");
    return true;
  }

  /** Logs where images are made (BFL, whether a key is set, each local worker) and kept. */
  private static void logBackends(Wiring wiring) {
    log.info("image store: {}", wiring.images);
    log.info(
        "backend bfl: {} ({})",
        wiring.bfl.config().baseUrl(),
        wiring.bfl.config().apiKey() == null ? "NO KEY: set BFL_API_KEY" : "key set");
    if (wiring.local != null) {
      for (var w : wiring.local.workers()) {
        log.info(
            "backend local-klein: worker {} {}",
            w.url(),
            w.healthy()
                ? "healthy, " + w.health().describe()
                : w.problem()
                    + (wiring.local.config().spawn() != null
                        ? " (the spawned worker may still be loading)"
                        : ""));
      }
      log.info(
          "backend local-klein: klein requests go local first; fallback to BFL {}",
          wiring.local.config().fallbackToBfl() ? "on" : "off");
    }
  }

  /**
   * Starts each configured platform into {@code platforms} (so that the caller can close those that
   * started), then the web server where links are signed; returns it, or null.
   */
  private OriginalsServer startPlatforms(
      FluxbotConfig config, Chats chats, Wiring wiring, List<Platform> platforms)
      throws InterruptedException {
    SignedLinks links = signedLinks(config);
    if (chats.discord().isPresent()) {
      platforms.add(discord(config, chats.discord().get(), chats.discordShards(), links, wiring));
    }
    if (chats.telegram().isPresent()) {
      platforms.add(telegram(config, chats.telegram().get(), wiring));
    }
    if (chats.slack().isPresent()) {
      platforms.add(slack(chats.slack().get(), wiring));
    }
    startOps(config, wiring, platforms); // a taken port is said before any platform connects
    for (Platform platform : platforms) {
      platform.start(); // a bad token fails before any port is taken
      log.info("platform {}: ready", platform.name());
    }
    return links == null ? null : startWeb(config, links, wiring);
  }

  /** Resumes the jobs a previous run left, each answered on the platform it came from. */
  private static void resume(
      Wiring wiring, ImagineService.Leftovers leftovers, List<Platform> platforms) {
    var resumed =
        wiring.imagine.resumeUnfinished(
            leftovers, servedBy(platforms), j -> replyFor(platforms, j));
    if (!resumed.isEmpty()) {
      log.info("resumed {} job(s) left from the last run", resumed.size());
    }
  }

  /** The jobs this instance can answer: those of its chat platforms. */
  private static java.util.function.Predicate<JobStore.Job> servedBy(List<Platform> platforms) {
    Set<String> names = new HashSet<>();
    platforms.forEach(p -> names.add(p.name()));
    return j -> names.contains(j.requester().platform());
  }

  private static ChatReply replyFor(List<Platform> platforms, JobStore.Job j) {
    return platforms.stream()
        .map(platform -> platform.replyFor(j))
        .flatMap(Optional::stream)
        .findFirst()
        .orElse(null);
  }

  /**
   * Every few seconds, takes over the jobs of instances that died (their leases ran out) and
   * resumes them here: on a shared database no job waits for its own instance to come back.
   */
  private static java.util.concurrent.ScheduledExecutorService takeOverOrphans(
      Wiring wiring, List<Platform> platforms) {
    var timer =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("fluxbot-takeover").unstarted(r));
    long every = Math.max(1000, wiring.core.leases().owner().lease().toMillis() / 6);
    timer.scheduleWithFixedDelay(
        () -> {
          try {
            var taken =
                wiring.imagine.takeOverOrphans(servedBy(platforms), j -> replyFor(platforms, j));
            if (!taken.isEmpty()) {
              log.info("took over {} job(s) whose instance stopped answering", taken.size());
            }
          } catch (RuntimeException e) {
            log.warn("taking over other instances' jobs failed ({}); trying again", e.getMessage());
          }
        },
        every,
        every,
        java.util.concurrent.TimeUnit.MILLISECONDS);
    return timer;
  }

  private static void unregister(Wiring wiring) {
    try {
      wiring.core.leases().unregister();
    } catch (RuntimeException e) {
      log.debug("could not remove this instance's row: {}", e.getMessage());
    }
  }

  /**
   * Says the bot runs and waits for SIGTERM or Ctrl-C; the shutdown hook then waits on the returned
   * latch, so count it down once everything is closed.
   */
  private CountDownLatch runUntilStopped(PrintWriter err, List<Platform> platforms)
      throws InterruptedException {
    err.println(
        "fluxbot: running ("
            + String.join(", ", platforms.stream().map(Platform::name).toList())
            + "). Stop with Ctrl-C or SIGTERM.");
    err.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopped.countDown();
                  try {
                    done.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                },
                "fluxbot-shutdown"));
    stopped.await();
    log.info(
        "stopping: running jobs get {} s to finish; queued ones wait for the next start",
        graceSeconds);
    return done;
  }

  /**
   * One chat platform as {@code run} drives it: its name, how it starts, its stored jobs' replies,
   * its stop.
   */
  private record Platform(
      String name,
      Starter starter,
      Function<JobStore.Job, Optional<ChatReply>> replies,
      Runnable closer,
      dev.fluxbot.core.chat.ChatConnection connection) {
    /**
     * Starts the bot; a refused token or a taken port is an {@link IllegalStateException} with the
     * reason.
     */
    interface Starter {
      void start() throws InterruptedException;
    }

    void start() throws InterruptedException {
      starter.start();
    }

    Optional<ChatReply> replyFor(JobStore.Job job) {
      return replies.apply(job);
    }

    void close() {
      closer.run();
    }
  }

  private Platform discord(
      FluxbotConfig config, Secret token, Shards shards, SignedLinks links, Wiring wiring) {
    OriginalLinks originals =
        links == null ? OriginalLinks.NONE : jobId -> Optional.of(links.linkFor(jobId));
    DiscordBot bot =
        new DiscordBot(
            new DiscordBot.Config(
                token,
                main.environment
                    .get(Environment.DISCORD_REST_URL)
                    .orElse(config.discord().restBaseUrl()),
                main.environment
                    .get(Environment.DISCORD_GATEWAY_URL)
                    .orElse(config.discord().gatewayUrl()),
                new HashSet<>(config.discord().adminRoles()),
                config.discord().allowDms(),
                shards),
            wiring.chatServices(),
            originals);
    return new Platform("discord", bot::start, bot::replyFor, bot::close, bot);
  }

  private static Platform slack(SlackBot.Config config, Wiring wiring) {
    SlackBot bot = SlackPlatform.bot(config, wiring);
    return new Platform("slack", bot::start, bot::replyFor, bot::close, bot);
  }

  private Platform telegram(FluxbotConfig config, Secret token, Wiring wiring) {
    FluxbotConfig.Telegram t = config.telegram();
    TelegramBot.Config tc =
        TelegramBot.Config.of(token)
            .withAdmins(Set.copyOf(t.adminUserIds()))
            .withQuotaZone(ZoneId.of(config.quotas().zone()));
    Optional<String> base =
        main.environment
            .get(Environment.TELEGRAM_API_URL)
            .or(() -> Optional.ofNullable(t.apiBaseUrl()));
    if (base.isPresent()) {
      tc = tc.withApiBaseUrl(URI.create(base.get().strip()));
    }
    if (t.webhook() != null) {
      Secret secret =
          main.environment
              .secret(
                  Environment.TELEGRAM_WEBHOOK_SECRET,
                  t.webhook().secretFile(),
                  "telegram.webhook.secret_file")
              .orElseThrow(
                  () ->
                      new FluxbotConfig.ConfigException(
                          "telegram.webhook: needs a secret token Telegram will send with each update: set "
                              + Environment.TELEGRAM_WEBHOOK_SECRET
                              + " (e.g. the output of openssl rand -hex 32) or "
                              + "telegram.webhook.secret_file"));
      tc =
          tc.withWebhook(
              new TelegramBot.Webhook(
                  URI.create(t.webhook().publicUrl()),
                  t.webhook().address(),
                  t.webhook().path(),
                  secret));
    }
    TelegramBot bot = new TelegramBot(tc, wiring.chatServices());
    return new Platform("telegram", bot::start, bot::replyFor, bot::close, bot);
  }

  /**
   * The signer of links to originals where {@code web.public_url} is set, else null; reads or makes
   * its key.
   */
  private SignedLinks signedLinks(FluxbotConfig config) {
    FluxbotConfig.Web w = config.web();
    if (!w.enabled()) {
      log.info(
          "web: off; a preview names the job whose original an admin can save (set web.public_url for links)");
      return null;
    }
    WebSecret.Key key = WebSecret.load(main.environment, Path.of(config.storage().dataDir()));
    log.info(
        "web: download links signed with the key from {}, good for {} days",
        key.source(),
        w.linkDays());
    return new SignedLinks(
        key.bytes(), w.publicUrl(), Duration.ofDays(w.linkDays()), InstantSource.system());
  }

  private static OriginalsServer startWeb(FluxbotConfig config, SignedLinks links, Wiring wiring) {
    FluxbotConfig.Web w = config.web();
    OriginalsServer web =
        OriginalsServer.start(
            w.address(), links, wiring.jobs, wiring.images, InstantSource.system());
    if (config.bfl().webhooks()) {
      BflWebhooks hooks =
          new BflWebhooks(
              URI.create(w.publicUrl()),
              links.webhookSecret(),
              config.bfl().webhookPollDuration(),
              InstantSource.system());
      BackendCalls calls = new BackendCalls(wiring.db);
      hooks.elsewhere(
          new BflWebhooks.Elsewhere() {
            @Override
            public boolean handOver(String taskId, String body) {
              return calls.keep(taskId, body);
            }

            @Override
            public Optional<String> handedOver(String taskId) {
              return calls.kept(taskId);
            }
          });
      web.takeWebhooks(hooks);
      wiring.bfl.useWebhooks(hooks);
      log.info(
          "web: BFL calls back at {} (polls every {} s as a safety net)",
          hooks.url(),
          hooks.safetyPoll().toSeconds());
    }
    log.info(
        "web: serving originals on {}:{} as {}{}…",
        web.address().getHostString(),
        web.address().getPort(),
        w.publicUrl(),
        SignedLinks.PATH);
    return web;
  }

  private static void closeWeb(OriginalsServer web) {
    if (web != null) {
      web.close();
    }
  }
}
