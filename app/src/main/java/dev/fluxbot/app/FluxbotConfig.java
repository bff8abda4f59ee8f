package dev.fluxbot.app;

import static dev.fluxbot.app.ConfigValues.duration;
import static dev.fluxbot.app.ConfigValues.nonNegative;
import static dev.fluxbot.app.ConfigValues.positive;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code fluxbot.yaml}. Every field has a default, so an empty file (or none) runs. Secrets are
 * never in this file: they come from the environment or from a file the config points at.
 */
public record FluxbotConfig(
    BflSettings bfl,
    Imagine imagine,
    References references,
    Storage storage,
    Quotas quotas,
    Cache cache,
    Scheduler scheduler,
    Discord discord,
    Web web,
    Telegram telegram,
    Slack slack,
    Local local,
    InstanceSettings instance,
    LogSettings log,
    OpsSettings ops,
    FilterSettings filters,
    EnhanceSettings enhance) {

  public FluxbotConfig {
    bfl = bfl == null ? BflSettings.DEFAULTS : bfl;
    imagine = imagine == null ? Imagine.DEFAULTS : imagine;
    references = references == null ? References.DEFAULTS : references;
    storage = storage == null ? Storage.DEFAULTS : storage;
    quotas = quotas == null ? Quotas.DEFAULTS : quotas;
    cache = cache == null ? Cache.DEFAULTS : cache;
    scheduler = scheduler == null ? Scheduler.DEFAULTS : scheduler;
    discord = discord == null ? Discord.DEFAULTS : discord;
    web = web == null ? Web.DEFAULTS : web;
    telegram = telegram == null ? Telegram.DEFAULTS : telegram;
    slack = slack == null ? Slack.DEFAULTS : slack;
    local = local == null ? Local.DEFAULTS : local;
    instance = instance == null ? InstanceSettings.DEFAULTS : instance;
    log = log == null ? LogSettings.DEFAULTS : log;
    ops = ops == null ? OpsSettings.DEFAULTS : ops;
    filters = filters == null ? FilterSettings.DEFAULTS : filters;
    enhance = enhance == null ? EnhanceSettings.DEFAULTS : enhance;
  }

  public static final FluxbotConfig DEFAULTS =
      new FluxbotConfig(
          null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
          null, null);

  /**
   * The local FLUX.2 [klein] runtime: on when {@code workers} lists a worker or {@code spawn} is
   * set. Klein requests then go to the least loaded healthy worker; other models go to BFL.
   *
   * @param workers base URLs of workers that run on their own, e.g. {@code http://127.0.0.1:8188}
   * @param spawn a worker fluxbot starts itself (and restarts when it dies)
   * @param fallbackToBfl whether klein requests go to the BFL API while no worker is healthy
   *     (default false: the user hears that the local runtime is unavailable)
   * @param healthInterval how often each worker's health is asked (default {@code 5s})
   * @param requeueWait how long a job whose worker was lost waits for a healthy one (default {@code
   *     3m}; {@code 0s}: it fails at once when no other worker is healthy)
   * @param maxAttempts how many workers one job may be tried on, 1..10 (default 3)
   */
  public record Local(
      List<String> workers,
      LocalSpawn spawn,
      Boolean fallbackToBfl,
      String healthInterval,
      String requeueWait,
      Integer maxAttempts) {
    static final Local DEFAULTS = new Local(null, null, null, null, null, null);

    public Local {
      workers = workers == null ? List.of() : List.copyOf(workers);
      fallbackToBfl = fallbackToBfl == null ? Boolean.FALSE : fallbackToBfl;
      healthInterval = healthInterval == null ? "5s" : healthInterval.strip();
      requeueWait = requeueWait == null ? "3m" : requeueWait.strip();
      maxAttempts = maxAttempts == null ? 3 : maxAttempts;
      for (int i = 0; i < workers.size(); i++) {
        workerUrl("local.workers[" + i + "]", workers.get(i));
      }
      duration("local.health_interval", healthInterval);
      durationOrZero("local.requeue_wait", requeueWait);
      if (maxAttempts < 1 || maxAttempts > 10) {
        throw new IllegalArgumentException(
            "local.max_attempts: must be 1..10 (a lost worker costs one); got " + maxAttempts);
      }
    }

    public java.time.Duration healthIntervalDuration() {
      return duration("local.health_interval", healthInterval);
    }

    public java.time.Duration requeueWaitDuration() {
      return durationOrZero("local.requeue_wait", requeueWait);
    }

    /** As {@link ConfigValues#duration}, or zero ({@code 0s}). */
    private static java.time.Duration durationOrZero(String field, String text) {
      return text.matches("0+\\s*[smh]?") ? java.time.Duration.ZERO : duration(field, text);
    }

    public boolean enabled() {
      return !workers.isEmpty() || spawn != null;
    }

    /** The workers' URLs, checked. */
    public List<URI> workerUrls() {
      List<URI> urls = new java.util.ArrayList<>();
      for (int i = 0; i < workers.size(); i++) {
        urls.add(workerUrl("local.workers[" + i + "]", workers.get(i)));
      }
      return urls;
    }

    private static URI workerUrl(String field, String url) {
      URI uri;
      try {
        uri = url == null ? null : new URI(url.strip());
      } catch (URISyntaxException e) {
        uri = null;
      }
      if (uri == null
          || uri.getHost() == null
          || uri.getRawQuery() != null
          || !"http".equalsIgnoreCase(uri.getScheme())) {
        throw new IllegalArgumentException(
            field
                + ": must be a worker's http://HOST:PORT URL, e.g. http://127.0.0.1:8188; "
                + "got \""
                + url
                + "\"");
      }
      return uri;
    }
  }

  /**
   * A klein worker fluxbot starts as a child process: {@code <python> -m fluxbot_klein serve
   * --checkpoint … --device … --listen …}.
   *
   * @param python the Python with PyTorch; default {@code /usr/bin/python3} where it exists, else
   *     {@code python3}
   * @param checkpoint the klein checkpoint: a Hugging Face folder or BFL's single {@code
   *     .safetensors} file (required)
   * @param device {@code auto} (default), {@code cuda}, {@code cuda:N}, {@code cpu} or {@code mps}
   * @param listen {@code HOST:PORT} the worker listens on; default {@code 127.0.0.1:8188}
   * @param healthTimeout how long loading the model may take, e.g. {@code 600s}, {@code 10m}
   *     (default 10m)
   * @param command the program and arguments to run instead of {@code <python> -m fluxbot_klein};
   *     for tests
   */
  public record LocalSpawn(
      String python,
      String checkpoint,
      String device,
      String listen,
      String healthTimeout,
      List<String> command) {
    static final String DEFAULT_LISTEN = "127.0.0.1:8188";

    public LocalSpawn {
      python = python == null ? defaultPython() : python.strip();
      device = device == null ? "auto" : device.strip();
      listen = listen == null ? DEFAULT_LISTEN : listen.strip();
      healthTimeout = healthTimeout == null ? "10m" : healthTimeout.strip();
      command = command == null ? List.of() : List.copyOf(command);
      if (checkpoint == null || checkpoint.isBlank()) {
        throw new IllegalArgumentException(
            "local.spawn.checkpoint: required; the klein checkpoint to load, a Hugging "
                + "Face folder or BFL's single .safetensors file, e.g. /models/FLUX.2-klein-4B; got nothing");
      }
      if (python.isEmpty()) {
        throw new IllegalArgumentException(
            "local.spawn.python: must name a Python 3 program, e.g. /usr/bin/python3; "
                + "got \"\"");
      }
      if (!device.matches("auto|cpu|cuda|cuda:\\d+|mps")) {
        throw new IllegalArgumentException(
            "local.spawn.device: must be auto, cpu, cuda, cuda:N or mps; got \"" + device + "\"");
      }
      Web.address("local.spawn.listen", listen, DEFAULT_LISTEN);
      duration("local.spawn.health_timeout", healthTimeout);
    }

    static String defaultPython() {
      return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    public java.time.Duration healthTimeoutDuration() {
      return duration("local.spawn.health_timeout", healthTimeout);
    }

    public InetSocketAddress address() {
      return Web.address("local.spawn.listen", listen, DEFAULT_LISTEN);
    }
  }

  /**
   * The bot's own web server, which serves the originals of images that reached a chat only as a
   * preview, at signed links that expire. On when {@code public_url} is set; the signing key is
   * {@code FLUXBOT_WEB_SECRET}, else a key made once in {@code <data_dir>/web-secret}.
   *
   * @param listen {@code HOST:PORT} the server binds; default {@code 127.0.0.1:8787}, behind a
   *     reverse proxy with TLS
   * @param publicUrl how users' browsers reach the server, e.g. {@code https://bot.example.com};
   *     links start with it
   * @param linkDays how many days a link works
   */
  public record Web(String listen, String publicUrl, Integer linkDays) {
    static final Web DEFAULTS = new Web(null, null, null);
    static final String DEFAULT_LISTEN = "127.0.0.1:8787";

    public Web {
      if (listen != null && publicUrl == null) {
        throw new IllegalArgumentException(
            "web.public_url: required when web.listen is set; it is the address users' "
                + "browsers reach this server at (e.g. https://bot.example.com), and download links start with it");
      }
      listen = listen == null ? DEFAULT_LISTEN : listen.strip();
      linkDays = linkDays == null ? 7 : linkDays;
      address(listen);
      if (publicUrl != null) {
        publicUrl = checkedPublicUrl(publicUrl.strip());
      }
      if (linkDays < 1 || linkDays > 365) {
        throw new IllegalArgumentException("web.link_days: must be 1..365; got " + linkDays);
      }
    }

    /** Whether the server runs: only a public URL makes links anyone can open. */
    public boolean enabled() {
      return publicUrl != null;
    }

    /** {@code listen} as a socket address (the host is not looked up until the server binds). */
    public InetSocketAddress address() {
      return address(listen);
    }

    static InetSocketAddress address(String listen) {
      return address("web.listen", listen);
    }

    static InetSocketAddress address(String field, String listen) {
      return address(field, listen, DEFAULT_LISTEN);
    }

    static InetSocketAddress address(String field, String listen, String example) {
      return ConfigValues.address(field, listen, example);
    }

    private static String checkedPublicUrl(String url) {
      URI uri;
      try {
        uri = new URI(url);
      } catch (URISyntaxException e) {
        uri = null;
      }
      if (uri == null
          || uri.getHost() == null
          || uri.getRawQuery() != null
          || uri.getRawFragment() != null
          || !("http".equalsIgnoreCase(uri.getScheme())
              || "https".equalsIgnoreCase(uri.getScheme()))) {
        throw new IllegalArgumentException(
            "web.public_url: must be an http:// or https:// URL with a host and no query, "
                + "e.g. https://bot.example.com or https://example.com/fluxbot; got \""
                + url
                + "\"");
      }
      return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
  }

  /**
   * Discord: on when a token is given ({@code FLUXBOT_DISCORD_TOKEN}, or the file {@code
   * token_file} names).
   *
   * @param restBaseUrl Discord's REST base, {@code …/api/v10/} (env {@code
   *     FLUXBOT_DISCORD_REST_URL}); null for Discord
   * @param gatewayUrl the gateway's WebSocket URL (env {@code FLUXBOT_DISCORD_GATEWAY_URL}); null
   *     to ask Discord
   * @param adminRoles role ids whose members may administer the bot, besides those with Manage
   *     Server
   * @param allowDms whether /imagine works in direct messages
   * @param shardsTotal the bot's gateway shards in all, or {@code auto} (Discord's recommendation)
   * @param shardIds the shards this instance runs: {@code all}, or ids and ranges like {@code 0,1}
   *     or {@code 0-3} (see {@link DiscordSharding})
   */
  public record Discord(
      String tokenFile,
      String restBaseUrl,
      String gatewayUrl,
      java.util.List<String> adminRoles,
      Boolean allowDms,
      String shardsTotal,
      String shardIds) {
    static final Discord DEFAULTS = new Discord(null, null, null, null, null, null, null);

    public Discord {
      adminRoles = adminRoles == null ? java.util.List.of() : java.util.List.copyOf(adminRoles);
      allowDms = allowDms == null ? Boolean.TRUE : allowDms;
      shardsTotal = shardsTotal == null ? DiscordSharding.AUTO : shardsTotal.strip();
      shardIds = shardIds == null ? DiscordSharding.ALL : shardIds.strip();
      DiscordSharding.parse(shardsTotal, "discord.shards_total", shardIds, "discord.shard_ids");
    }
  }

  /**
   * Telegram: on when a token is given ({@code FLUXBOT_TELEGRAM_TOKEN}, or the file {@code
   * token_file} names). Long polling unless {@code webhook} is set.
   *
   * @param apiBaseUrl the Bot API's base, {@code scheme://host[:port]} (env {@code
   *     FLUXBOT_TELEGRAM_API_URL}); null for {@code https://api.telegram.org}
   * @param adminUserIds Telegram user ids that may administer the bot everywhere (a group's
   *     administrators may also administer it in that group)
   */
  public record Telegram(
      String tokenFile, String apiBaseUrl, List<Long> adminUserIds, TelegramWebhook webhook) {
    static final Telegram DEFAULTS = new Telegram(null, null, null, null);

    public Telegram {
      adminUserIds = adminUserIds == null ? List.of() : List.copyOf(adminUserIds);
      if (apiBaseUrl != null) {
        apiBaseUrl = apiBaseUrl.strip();
        URI uri;
        try {
          uri = new URI(apiBaseUrl);
        } catch (URISyntaxException e) {
          uri = URI.create("invalid:x");
        }
        if (uri.getHost() == null
            || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
          throw new IllegalArgumentException(
              "telegram.api_base_url: must be http(s)://host[:port], e.g. "
                  + "https://api.telegram.org; got \""
                  + apiBaseUrl
                  + "\"");
        }
      }
    }
  }

  /**
   * Slack: on when a bot token is given ({@code FLUXBOT_SLACK_BOT_TOKEN}, or the file {@code
   * bot_token_file} names). Each setting's environment variable wins over it (see {@link
   * SlackPlatform}); the values are checked there, naming where each came from.
   *
   * @param mode {@code socket} (default; needs the app-level token) or {@code http} (needs the
   *     signing secret)
   * @param httpListen HTTP mode's {@code HOST:PORT} (default {@code 127.0.0.1:3000}); the Request
   *     URL's path is {@code /slack/events}
   * @param adminUserIds user ids that may use {@code /imagine-admin} besides the workspace's admins
   *     and owners
   * @param apiBaseUrl the Web API's prefix; null for {@code https://slack.com/api/}
   */
  public record Slack(
      String botTokenFile,
      String appTokenFile,
      String signingSecretFile,
      String mode,
      String httpListen,
      List<String> adminUserIds,
      String apiBaseUrl) {
    static final Slack DEFAULTS = new Slack(null, null, null, null, null, null, null);

    public Slack {
      mode = mode == null ? "socket" : mode;
      httpListen = httpListen == null ? SlackPlatform.DEFAULT_LISTEN : httpListen;
      adminUserIds = adminUserIds == null ? List.of() : List.copyOf(adminUserIds);
    }
  }

  /**
   * Telegram's webhook mode: Telegram POSTs updates to {@code public_url}, which must reach {@code
   * listen}{@code path} (through a reverse proxy with TLS); each request must carry the secret
   * token ({@code FLUXBOT_TELEGRAM_WEBHOOK_SECRET}, or the file {@code secret_file} names).
   */
  public record TelegramWebhook(String publicUrl, String listen, String path, String secretFile) {
    public TelegramWebhook {
      if (publicUrl == null || publicUrl.isBlank()) {
        throw new IllegalArgumentException(
            "telegram.webhook.public_url: required for webhook mode, the https:// URL "
                + "Telegram sends updates to; remove the webhook section for long polling");
      }
      listen = listen == null ? "127.0.0.1:8443" : listen.strip();
      path = path == null ? "/telegram" : path;
      Web.address("telegram.webhook.listen", listen);
    }

    public InetSocketAddress address() {
      InetSocketAddress a = Web.address("telegram.webhook.listen", listen);
      return new InetSocketAddress(a.getHostString(), a.getPort());
    }
  }

  /**
   * @param dataDir the database (SQLite) and the image store live here
   * @param databaseUrl {@code jdbc:postgresql://…} for several instances; default SQLite in {@code
   *     data_dir}
   * @param databasePasswordFile a file holding the database password (env {@code
   *     FLUXBOT_DATABASE_PASSWORD} wins)
   * @param databasePoolSize the most database connections one process keeps; null: 4 on SQLite, and
   *     on PostgreSQL 10 for {@code run} and 2 for one-shot commands
   * @param imagesUrl {@code s3://BUCKET/PREFIX}: the images in S3, shared by several instances (env
   *     {@code FLUXBOT_IMAGES_URL} wins); null: pack files in {@code data_dir/images} (see {@link
   *     ImageStores})
   * @param s3Endpoint an S3-compatible server's {@code http(s)://HOST[:PORT]} (env {@code
   *     FLUXBOT_S3_ENDPOINT} wins); null: AWS
   * @param s3Region the bucket's region; null: {@code AWS_REGION}, else {@code us-east-1}
   */
  public record Storage(
      String dataDir,
      String databaseUrl,
      String databaseUser,
      String databasePasswordFile,
      Integer databasePoolSize,
      String imagesUrl,
      String s3Endpoint,
      String s3Region) {
    static final Storage DEFAULTS = new Storage(null, null, null, null, null, null, null, null);
    static final int MAX_POOL_SIZE = 100;

    public Storage {
      dataDir = dataDir == null ? "data" : dataDir;
      imagesUrl = ImageStores.checkedUrl("storage.images_url", imagesUrl);
      s3Endpoint = ImageStores.checkedEndpoint("storage.s3_endpoint", s3Endpoint);
      s3Region = ImageStores.checkedRegion("storage.s3_region", s3Region);
      if (databasePoolSize != null && (databasePoolSize < 2 || databasePoolSize > MAX_POOL_SIZE)) {
        throw new ConfigException(
            "storage.database_pool_size: must be from 2 to "
                + MAX_POOL_SIZE
                + "; got "
                + databasePoolSize
                + ". Leave it out for the defaults (10 for run and 2 for other commands on PostgreSQL)");
      }
    }
  }

  /**
   * @param zone the time zone of the calendar windows
   * @param period day, week or month: the default window
   * @param credits each user's credits per window when no rule says otherwise
   * @param monthlyBflBudgetDollars what the whole installation may spend on BFL per month; null for
   *     no cap
   * @param localImageCredits what an image from a local backend costs
   * @param cacheHitCredits what an answer from the seed cache costs (0: free)
   */
  public record Quotas(
      String zone,
      String period,
      Double credits,
      Integer maxConcurrentJobs,
      Double monthlyBflBudgetDollars,
      Double localImageCredits,
      Double cacheHitCredits) {
    static final Quotas DEFAULTS = new Quotas(null, null, null, null, null, null, null);

    public Quotas {
      zone = zone == null ? "UTC" : zone;
      period = period == null ? "day" : period;
      credits = credits == null ? 50.0 : credits;
      maxConcurrentJobs = maxConcurrentJobs == null ? 2 : maxConcurrentJobs;
      localImageCredits = localImageCredits == null ? 1.0 : localImageCredits;
      cacheHitCredits = cacheHitCredits == null ? 0.0 : cacheHitCredits;
      nonNegative("quotas.credits", credits);
      positive("quotas.max_concurrent_jobs", maxConcurrentJobs);
      nonNegative("quotas.local_image_credits", localImageCredits);
      nonNegative("quotas.cache_hit_credits", cacheHitCredits);
      if (monthlyBflBudgetDollars != null) {
        nonNegative("quotas.monthly_bfl_budget_dollars", monthlyBflBudgetDollars);
      }
    }
  }

  /** The seed cache's bounds. */
  public record Cache(Integer memoryMegabytes, Integer diskMegabytes) {
    static final Cache DEFAULTS = new Cache(null, null);

    public Cache {
      memoryMegabytes = memoryMegabytes == null ? 256 : memoryMegabytes;
      diskMegabytes = diskMegabytes == null ? 10240 : diskMegabytes;
      positive("cache.memory_megabytes", memoryMegabytes);
      positive("cache.disk_megabytes", diskMegabytes);
    }
  }

  /** The fair queue: jobs a user may run at once (more wait their turn). */
  public record Scheduler(Integer perUser) {
    static final Scheduler DEFAULTS = new Scheduler(null);

    public Scheduler {
      perUser = perUser == null ? 2 : perUser;
      positive("scheduler.per_user", perUser);
    }
  }

  /**
   * @param defaultModel the model when a command names none
   * @param maxSafetyTolerance the highest {@code --safety} users may ask for (0..5)
   */
  public record Imagine(
      String defaultModel,
      Integer maxPromptLength,
      Integer maxSafetyTolerance,
      String defaultFormat) {
    static final Imagine DEFAULTS = new Imagine(null, null, null, null);

    public Imagine {
      defaultModel = defaultModel == null ? "klein-4b" : defaultModel;
      maxPromptLength = maxPromptLength == null ? 4000 : maxPromptLength;
      maxSafetyTolerance = maxSafetyTolerance == null ? 5 : maxSafetyTolerance;
      defaultFormat = defaultFormat == null ? "jpeg" : defaultFormat;
      positive("imagine.max_prompt_length", maxPromptLength);
      if (maxSafetyTolerance < 0 || maxSafetyTolerance > 5) {
        throw new IllegalArgumentException(
            "imagine.max_safety_tolerance: must be 0..5; got " + maxSafetyTolerance);
      }
    }
  }

  /**
   * Limits on reference images.
   *
   * @param permittedHosts host names, addresses or networks (CIDR) on a private, loopback or
   *     link-local address that references may still be downloaded from; none by default
   */
  public record References(
      Integer maxMegabytes,
      Integer maxSourceMegapixels,
      Integer maxRedirects,
      List<String> permittedHosts) {
    static final References DEFAULTS = new References(null, null, null, null);

    public References {
      permittedHosts = permittedHosts == null ? List.of() : List.copyOf(permittedHosts);
      maxMegabytes = maxMegabytes == null ? 20 : maxMegabytes;
      maxSourceMegapixels = maxSourceMegapixels == null ? 64 : maxSourceMegapixels;
      maxRedirects = maxRedirects == null ? 5 : maxRedirects;
      positive("references.max_megabytes", maxMegabytes);
      positive("references.max_source_megapixels", maxSourceMegapixels);
      if (maxRedirects < 0) {
        throw new IllegalArgumentException(
            "references.max_redirects: must be >= 0; got " + maxRedirects);
      }
    }
  }

  /**
   * Reads a config file; every problem becomes a {@link ConfigException} naming the file and field.
   */
  public static FluxbotConfig load(Path file) {
    return ConfigFile.load(file);
  }

  /** A configuration problem: the message says which file and field, and what is wrong. */
  public static final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
      super(message);
    }
  }
}
