package dev.fluxbot.app;

import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.core.chat.ChatServices;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.image.AddressPolicy;
import dev.fluxbot.core.image.ReferenceLoader;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.schedule.JobScheduler;
import dev.fluxbot.core.seedcache.SeedCache;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.core.store.Owner;
import dev.fluxbot.runtime.LocalKleinBackend;
import dev.fluxbot.runtime.LocalRuntimeConfig;
import dev.fluxbot.slack.SlackBot;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.InstantSource;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import okhttp3.OkHttpClient;

/** Builds the core's parts from the config and the environment; the one place that wires them. */
final class Wiring implements AutoCloseable {
  static final long MILLI = 1000;

  final FluxbotConfig config;
  final ModelCatalog catalog;
  final BflBackend bfl;

  /**
   * The local klein runtime; null where {@code local:} configures none. Not started until {@link
   * #startLocal}.
   */
  final LocalKleinBackend local;

  final Database db;
  private final RunLock runLock;

  /** The core's meters, which {@code run}'s ops listener serves at {@code /metrics}. */
  final io.micrometer.prometheusmetrics.PrometheusMeterRegistry meters =
      new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
          io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);

  /** The core's parts on {@link #db}; the fields below are its, named for the commands. */
  final FluxbotCore core;

  final JobStore jobs;
  final QuotaService quota;
  final ImageStore images;
  final ImagineService imagine;

  /**
   * The S3 image store this wiring opened (the core does not close a store it was given); or null.
   */
  private final ImageStore s3Images;

  /**
   * How many database connections a one-shot command's PostgreSQL pool may hold when the config
   * names none.
   */
  static final int ONE_SHOT_POOL = 2;

  /** The parts for {@code run}: a long-lived bot. */
  Wiring(FluxbotConfig config, Environment env) {
    this(config, env, false);
  }

  /**
   * @param oneShot a command that does one thing and exits: a small database pool
   */
  Wiring(FluxbotConfig config, Environment env, boolean oneShot) {
    this.config = config;
    this.catalog = ModelCatalog.builtIn();
    QuotaService.Settings quotaSettings = quotaSettings(config.quotas());
    CommandParser.Settings parserSettings = parserSettings(config, catalog);
    OkHttpClient http = httpClient();
    InstantSource clock = InstantSource.system();
    this.bfl =
        new BflBackend(bflConfig(config, env), http, clock, Sleeper.SYSTEM, new SecureRandom());
    ReferenceLoader.Limits referenceLimits = referenceLimits(config.references());
    AddressPolicy addresses = permittedAddresses(config.references(), env);
    Path dataDir = Path.of(config.storage().dataDir());
    this.runLock = oneShot ? null : runLock(config, env, dataDir);
    try {
      this.local =
          config.local().enabled()
              ? LocalKleinBackend.create(
                  localConfig(config.local(), dataDir),
                  java.math.BigDecimal.valueOf(config.quotas().localImageCredits()))
              : null;
      this.db = database(config.storage(), env, dataDir, oneShot);
    } catch (RuntimeException e) {
      closeLock();
      throw e;
    }
    ImageStore s3 = null;
    try {
      s3 = ImageStores.openS3(config.storage(), env).orElse(null); // sends nothing yet
      this.core =
          (s3 != null
                  ? coreBuilder(env).images(s3) // this wiring closes it
                  : coreBuilder(env).imagesIn(ImageStores.localFolder(dataDir)))
              .catalog(catalog)
              .parserSettings(parserSettings)
              .referenceHttp(http)
              .referenceLimits(referenceLimits)
              .referenceAddresses(addresses)
              .backends(local == null ? List.of(bfl) : List.of(local, bfl))
              .quotaSettings(quotaSettings)
              .seedCacheSettings(cacheSettings(config.cache()))
              .seedCacheHitWriter(Executors.newVirtualThreadPerTaskExecutor())
              .schedulerSettings(schedulerSettings(config, bfl))
              .imagineSettings(prices(config.quotas()))
              .clock(clock)
              .owner(owner(config, env, db, dataDir, oneShot))
              .build();
    } catch (RuntimeException e) {
      if (s3 != null) {
        s3.close();
      }
      db.close();
      closeLock();
      throw e;
    }
    this.s3Images = s3;
    this.jobs = core.jobs();
    this.quota = core.quota();
    this.images = core.images();
    this.imagine = core.imagine();
  }

  /**
   * The core's builder on {@link #db}, with the meters, the config's word filters and {@code
   * --enhance} (enhance:).
   */
  private FluxbotCore.Builder coreBuilder(Environment env) {
    return FluxbotCore.builder(db)
        .meters(meters)
        .filters(config.filters().rules())
        .enhance(config.enhance().options(env));
  }

  /** {@code run} on SQLite: one bot per database file. */
  private static RunLock runLock(FluxbotConfig config, Environment env, Path dataDir) {
    boolean sqlite = databaseUrl(config.storage(), env).isEmpty();
    return sqlite ? RunLock.take(dataDir.resolve("fluxbot.db")) : null;
  }

  private static OkHttpClient httpClient() {
    return new OkHttpClient.Builder()
        .connectTimeout(Duration.ofSeconds(10))
        .readTimeout(Duration.ofSeconds(60))
        .writeTimeout(Duration.ofSeconds(60))
        .build();
  }

  /**
   * The instance a command acts as: {@code run} as the configured (or default) instance id, a
   * one-shot command as itself alone, so that it never takes a running bot's jobs.
   */
  private static Owner owner(
      FluxbotConfig config, Environment env, Database db, Path dataDir, boolean oneShot) {
    if (oneShot) {
      return Owner.oneShot("cli");
    }
    return config
        .instance()
        .owner(
            env.get(Environment.INSTANCE_ID).orElse(null),
            db.dialect() == Database.Dialect.POSTGRESQL,
            dataDir);
  }

  /** A user's jobs at once, and BFL's tasks in flight. */
  private static JobScheduler.Settings schedulerSettings(FluxbotConfig config, BflBackend bfl) {
    return new JobScheduler.Settings(
        config.scheduler().perUser(), Map.of(bfl.name(), config.bfl().maxActiveTasks()), 10_000);
  }

  /** The seed cache's bounds from {@code cache:}, in bytes. */
  static SeedCache.Settings cacheSettings(FluxbotConfig.Cache c) {
    return new SeedCache.Settings(
        c.memoryMegabytes() * 1024L * 1024L, c.diskMegabytes() * 1024L * 1024L);
  }

  /** What a local image and a seed-cache hit cost, in milli-credits. */
  static ImagineService.Settings prices(FluxbotConfig.Quotas q) {
    return new ImagineService.Settings(
        Math.round(q.localImageCredits() * MILLI), Math.round(q.cacheHitCredits() * MILLI));
  }

  /** The config's limits on a reference image, the rest {@link ReferenceLoader.Limits}'s. */
  static ReferenceLoader.Limits referenceLimits(FluxbotConfig.References r) {
    ReferenceLoader.Limits d = ReferenceLoader.Limits.defaults();
    return new ReferenceLoader.Limits(
        r.maxMegabytes() * 1024L * 1024L,
        r.maxSourceMegapixels() * 1024L * 1024L,
        d.maxOutputPixels(),
        r.maxRedirects(),
        d.connectTimeout(),
        d.readTimeout(),
        d.callTimeout());
  }

  /**
   * Where references may come from: public addresses, and what {@code references.permitted_hosts}
   * names; {@code FLUXBOT_REFERENCES_PERMITTED_HOSTS} (comma-separated), when set, replaces that
   * list.
   */
  static AddressPolicy permittedAddresses(FluxbotConfig.References r, Environment env) {
    Optional<String> variable = env.get(Environment.REFERENCES_PERMITTED_HOSTS);
    String field =
        variable.isPresent()
            ? Environment.REFERENCES_PERMITTED_HOSTS
            : "references.permitted_hosts";
    List<String> entries =
        variable
            .map(
                v ->
                    Arrays.stream(v.split(","))
                        .map(String::strip)
                        .filter(e -> !e.isEmpty())
                        .toList())
            .orElse(r.permittedHosts());
    try {
      return AddressPolicy.permitting(field, entries);
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException(e.getMessage());
    }
  }

  /**
   * The grammar with the config's defaults and limits; touches no database or file (a dry run uses
   * it alone).
   */
  static CommandParser parser(FluxbotConfig config, ModelCatalog catalog) {
    return new CommandParser(catalog, parserSettings(config, catalog));
  }

  /** The config's defaults and limits for the grammar, checked ({@link #check}). */
  static CommandParser.Settings parserSettings(FluxbotConfig config, ModelCatalog catalog) {
    ImageType format = check(config, catalog);
    return new CommandParser.Settings(
        config.imagine().defaultModel(),
        config.imagine().maxPromptLength(),
        config.imagine().maxSafetyTolerance(),
        format);
  }

  /**
   * The rules the config's records cannot check alone (names from the catalog, the time zone);
   * returns the default format.
   *
   * @throws FluxbotConfig.ConfigException naming the field, the rule and the value
   */
  static ImageType check(FluxbotConfig config, ModelCatalog catalog) {
    ImageType format =
        ImageType.fromName(config.imagine().defaultFormat())
            .orElseThrow(
                () ->
                    new FluxbotConfig.ConfigException(
                        "imagine.default_format: must be jpeg, png or webp; got \""
                            + config.imagine().defaultFormat()
                            + "\""));
    if (catalog.find(config.imagine().defaultModel()).isEmpty()) {
      throw new FluxbotConfig.ConfigException(
          "imagine.default_model: unknown model \""
              + config.imagine().defaultModel()
              + "\"; known: "
              + String.join(", ", catalog.names()));
    }
    quotaSettings(config.quotas());
    if (config.local().enabled()) {
      localConfig(config.local(), Path.of(config.storage().dataDir()));
    }
    return format;
  }

  /**
   * The runtime's config from {@code local:}; its spawned worker's package goes under {@code
   * data_dir}.
   */
  static LocalRuntimeConfig localConfig(FluxbotConfig.Local l, Path dataDir) {
    LocalRuntimeConfig.Spawn spawn = null;
    try {
      if (l.spawn() != null) {
        FluxbotConfig.LocalSpawn s = l.spawn();
        List<String> launcher =
            s.command().isEmpty()
                ? LocalRuntimeConfig.Spawn.pythonLauncher(s.python())
                : s.command();
        spawn =
            new LocalRuntimeConfig.Spawn(
                launcher,
                Path.of(s.checkpoint()),
                s.device(),
                s.address().getHostString(),
                s.address().getPort(),
                s.healthTimeoutDuration(),
                dataDir);
      }
      return new LocalRuntimeConfig(
          l.workerUrls(),
          spawn,
          l.fallbackToBfl(),
          l.healthIntervalDuration(),
          l.requeueWaitDuration(),
          l.maxAttempts());
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException(e.getMessage());
    }
  }

  /**
   * Starts the local runtime where one is configured: the spawned worker, and the health checks
   * (the first round before this returns).
   */
  void startLocal() {
    if (local == null) {
      return;
    }
    LocalRuntimeConfig.Spawn spawn = local.config().spawn();
    if (spawn != null && !Files.exists(spawn.checkpoint())) {
      throw new FluxbotConfig.ConfigException(
          "local.spawn.checkpoint: no such file or folder: "
              + spawn.checkpoint()
              + "; point it at the klein checkpoint (a Hugging Face folder or BFL's single .safetensors file)");
    }
    local.start();
  }

  static Database database(
      FluxbotConfig.Storage s, Environment env, Path dataDir, boolean oneShot) {
    String url = databaseUrl(s, env).orElse(null);
    int pool = s.databasePoolSize() != null ? s.databasePoolSize() : 0;
    try {
      if (url == null) {
        return Database.sqlite(dataDir.resolve("fluxbot.db"), pool);
      }
      return Database.open(
          url,
          s.databaseUser(),
          databasePassword(s, env),
          pool == 0 && oneShot ? ONE_SHOT_POOL : pool);
    } catch (Database.UnavailableException e) {
      throw e; // not a mistake in the settings: the server refused or did not answer
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new FluxbotConfig.ConfigException("storage: " + e.getMessage());
    }
  }

  /**
   * The database's JDBC URL: {@code FLUXBOT_DATABASE_URL}, else {@code storage.database_url}; empty
   * for the embedded SQLite file in the data folder.
   */
  static Optional<String> databaseUrl(FluxbotConfig.Storage s, Environment env) {
    return env.get(Environment.DATABASE_URL).or(() -> Optional.ofNullable(s.databaseUrl()));
  }

  /** {@code FLUXBOT_DATABASE_PASSWORD}, else the file {@code storage.database_password_file}. */
  static Secret databasePassword(FluxbotConfig.Storage s, Environment env) {
    Secret password = env.get(Environment.DATABASE_PASSWORD).map(Secret::of).orElse(null);
    if (password == null && s.databasePasswordFile() != null) {
      try {
        password = Secret.of(Files.readString(Path.of(s.databasePasswordFile())));
      } catch (IOException e) {
        throw new FluxbotConfig.ConfigException(
            "storage.database_password_file: cannot read "
                + s.databasePasswordFile()
                + " ("
                + e.getClass().getSimpleName()
                + ")");
      }
    }
    return password;
  }

  static QuotaService.Settings quotaSettings(FluxbotConfig.Quotas q) {
    ZoneId zone;
    try {
      zone = ZoneId.of(q.zone());
    } catch (DateTimeException e) {
      throw new FluxbotConfig.ConfigException(
          "quotas.zone: not a time zone; got \""
              + q.zone()
              + "\". Use a name like UTC or Europe/Berlin.");
    }
    QuotaService.Period period = period(q.period(), "quotas.period");
    Long cap =
        q.monthlyBflBudgetDollars() == null
            ? null
            : Math.round(q.monthlyBflBudgetDollars() * 100 * MILLI);
    return new QuotaService.Settings(
        zone, period, Math.round(q.credits() * MILLI), q.maxConcurrentJobs(), cap);
  }

  static QuotaService.Period period(String name, String field) {
    try {
      return QuotaService.Period.valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException(
          field + ": must be day, week or month; got \"" + name + "\"");
    }
  }

  static BflConfig bflConfig(FluxbotConfig config, Environment env) {
    BflSettings b = config.bfl();
    URI base;
    try {
      base =
          env.get(Environment.BFL_BASE_URL)
              .map(URI::create)
              .orElseGet(
                  () ->
                      b.baseUrl() != null
                          ? URI.create(b.baseUrl())
                          : BflConfig.Region.parse(b.region()).baseUrl());
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException("BFL base URL: " + e.getMessage());
    }
    try {
      return BflConfig.defaults(env.bflKey(config).orElse(null))
          .withBaseUrl(base)
          .withMaxActiveTasks(b.maxActiveTasks())
          .withWaitLimit(Duration.ofSeconds(b.waitLimitSeconds()))
          .withFirstPoll(b.firstPollDuration());
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException(e.getMessage());
    }
  }

  /**
   * Lets running jobs finish (up to {@code grace}); queued ones stay QUEUED in the database for the
   * next start.
   */
  void shutdown(Duration grace) {
    try {
      core.shutdown(grace);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    shutdown(Duration.ofSeconds(30));
    if (local != null) {
      local.close();
    }
    core.close(); // the scheduler, shut down above, and the local image store
    if (s3Images != null) {
      s3Images.close();
    }
    db.close();
    meters.close();
    closeLock();
  }

  private void closeLock() {
    if (runLock != null) {
      runLock.close();
    }
  }

  /**
   * For {@code run}, before the bot takes work: checks that the image store can be written, read
   * and deleted from (S3: a small test object; the local store: nothing), then starts the local
   * runtime ({@link #startLocal}).
   *
   * @throws java.io.UncheckedIOException saying, in one line, why the image store cannot be used
   */
  void start() {
    images.check();
    startLocal();
  }

  /**
   * The core's parts as every chat platform takes them. Deliveries are remembered for Slack's
   * resend window, the longest any platform needs.
   */
  ChatServices chatServices() {
    return core.chatServices(SlackBot.DELIVERIES_KEPT, Sleeper.SYSTEM);
  }
}
