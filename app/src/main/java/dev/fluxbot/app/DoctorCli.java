package dev.fluxbot.app;

import dev.fluxbot.core.Secret;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.JobLeases;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.core.store.Owner;
import dev.fluxbot.core.store.SchemaVersions;
import dev.fluxbot.runtime.LocalKleinBackend;
import dev.fluxbot.runtime.LocalRuntimeConfig;
import dev.fluxbot.runtime.WorkerHealth;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import okhttp3.OkHttpClient;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code fluxbot doctor}: checks what {@code run} needs, one line each (what is wrong and what to
 * do), without starting anything: the config, the database, the image store (S3: a test object
 * written, read and deleted), the chat tokens and the BFL key (never printed), and each local klein
 * worker's health.
 */
@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    description = {
      "Checks the config, the database, the image store, the chat tokens, the BFL key and the local"
          + " klein workers.",
      "Exit status 0 when all is well, 1 otherwise; each line says what is wrong and what to do."
    })
final class DoctorCli implements Callable<Integer> {
  private static final String OK = "ok    ";
  private static final String NOTE = "--    ";
  private static final String FAIL = "FAIL  ";

  @CommandLine.ParentCommand Main main;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final List<String> failures = new ArrayList<>();
  private PrintWriter out;

  @Override
  public Integer call() {
    out = spec.commandLine().getOut();
    Environment env = main.environment;
    FluxbotConfig config;
    Optional<Path> file;
    try {
      file = main.configFile(env);
      config = main.loadConfig(env);
      Wiring.check(config, dev.fluxbot.core.model.ModelCatalog.builtIn());
      Wiring.bflConfig(config, env);
      line(
          OK,
          "config: " + file.map(Path::toString).orElse("none found; using the built-in defaults"));
    } catch (FluxbotConfig.ConfigException | IllegalArgumentException e) {
      line(FAIL, "config: " + e.getMessage());
      return summary();
    }
    database(config, env);
    images(config, env);
    chatTokens(config, env);
    bflKey(config, env);
    line(OpsDoctor.listener(config, env));
    line(EnhanceDoctor.check(config, env));
    if (config.local().enabled()) {
      local(config);
    } else {
      line(
          NOTE,
          "local klein: not configured; klein runs on BFL (add a local: section to run it on your own GPU)");
    }
    return summary();
  }

  private int summary() {
    out.println(
        failures.isEmpty()
            ? "All is well."
            : failures.size() + " problem(s) found; fix the FAIL lines above.");
    out.flush();
    return failures.isEmpty() ? Main.OK : Main.BACKEND_FAILURE;
  }

  private void line(String status, String text) {
    if (status.equals(FAIL)) {
      failures.add(text);
    }
    out.println(status + text);
  }

  private void line(OpsDoctor.Finding f) {
    line(
        switch (f.level()) {
          case OK -> OK;
          case NOTE -> NOTE;
          case FAIL -> FAIL;
        },
        f.text());
  }

  private void database(FluxbotConfig config, Environment env) {
    Path dataDir = Path.of(config.storage().dataDir());
    String url = Wiring.databaseUrl(config.storage(), env).orElse(null);
    String where = url == null ? "SQLite " + dataDir.resolve("fluxbot.db") : Database.redact(url);
    Path sqliteFile = dataDir.resolve("fluxbot.db");
    if (url == null && !Files.exists(sqliteFile)) {
      line(NOTE, "database: " + where + " does not exist yet; run (or imagine) creates it");
      return;
    }
    try {
      Secret password = Wiring.databasePassword(config.storage(), env);
      SchemaVersions.Status schema =
          SchemaVersions.status(
              url != null ? url : "jdbc:sqlite:" + sqliteFile.toAbsolutePath(),
              config.storage().databaseUser(),
              password == null ? null : password.reveal());
      if (schema.isNewer() || schema.pending() > 0) {
        line(schema.isNewer() ? FAIL : NOTE, "database: " + where + " opens; " + describe(schema));
        return; // opening it through the store would migrate it: doctor changes nothing
      }
      try (Database db = Wiring.database(config.storage(), env, dataDir, true)) {
        line(OK, "database: " + where + " opens, " + describe(schema));
        instances(config, env, db, dataDir);
        OpsDoctor.budget(config, db).ifPresent(this::line);
      }
    } catch (FluxbotConfig.ConfigException e) {
      line(FAIL, e.getMessage());
    } catch (RuntimeException e) {
      line(
          FAIL,
          "database: "
              + where
              + " does not open ("
              + rootLine(e)
              + "); check storage.data_dir, "
              + "storage.database_url and the password");
    }
  }

  /** The schema in words: up to date, what run would migrate, or newer than this fluxbot. */
  private static String describe(SchemaVersions.Status schema) {
    if (schema.isNewer()) {
      return "refused: " + schema.refusal();
    } else if (schema.pending() == 0) {
      return "schema " + schema.applied() + ", up to date";
    } else if (schema.applied() == null) {
      return "empty; run creates the schema (" + schema.known() + ") at its start";
    }
    return "schema "
        + schema.applied()
        + "; run brings it to "
        + schema.known()
        + " at its start ("
        + schema.pending()
        + " migration(s))";
  }

  /** The innermost cause's message, first line only (Flyway's and JDBC's run to many lines). */
  private static String rootLine(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message =
        root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    return message.lines().findFirst().orElse("").strip();
  }

  /**
   * The id {@code run} would take here, the instances that recorded a heartbeat, and the jobs held
   * under a live lease or waiting to be taken over.
   */
  private void instances(FluxbotConfig config, Environment env, Database db, Path dataDir) {
    boolean shared = db.dialect() == Database.Dialect.POSTGRESQL;
    Owner owner =
        config.instance().owner(env.get(Environment.INSTANCE_ID).orElse(null), shared, dataDir);
    java.time.InstantSource clock = java.time.InstantSource.system();
    JobLeases leases =
        new JobLeases(
            new JobStore(db, dev.fluxbot.core.model.ModelCatalog.builtIn(), clock, owner),
            db,
            clock);
    line(
        OK,
        "instance: this machine runs as '"
            + owner.id()
            + "' (lease "
            + owner.lease().toSeconds()
            + " s)"
            + (shared ? "" : "; one bot per SQLite file"));
    for (JobLeases.Instance i : leases.instances()) {
      long age = Math.max(0, clock.millis() - i.heartbeatAt().toEpochMilli()) / 1000;
      boolean live = age <= owner.lease().toSeconds();
      line(
          live ? OK : NOTE,
          "instance "
              + i.id()
              + ": host "
              + i.host()
              + ", pid "
              + i.pid()
              + ", last heartbeat "
              + age
              + " s ago"
              + (live ? "" : " (stopped answering; its jobs are taken over)"));
    }
    JobLeases.Health health = leases.health();
    line(
        health.orphaned() > 0 && health.oldestWait().compareTo(owner.lease().multipliedBy(2)) > 0
            ? FAIL
            : OK,
        "leases: "
            + health.held()
            + " job(s) held by live instances, "
            + health.orphaned()
            + " waiting to be taken over"
            + (health.orphaned() > 0
                ? " (the oldest for "
                    + health.oldestWait().toSeconds()
                    + " s; a running bot takes them)"
                : ""));
  }

  /**
   * Where the images live; S3 is checked as {@code run} checks it (a test object written, read and
   * deleted). Names the location and where the credentials come from, never a key.
   */
  private void images(FluxbotConfig config, Environment env) {
    Optional<dev.fluxbot.core.imagestore.S3Location> where;
    String credentials;
    try {
      where = ImageStores.s3(config.storage(), env);
      credentials = ImageStores.credentialsSource(env);
    } catch (FluxbotConfig.ConfigException e) {
      line(FAIL, "image store: " + e.getMessage());
      return;
    }
    if (where.isEmpty()) {
      line(
          OK,
          "image store: local pack files in "
              + ImageStores.localFolder(Path.of(config.storage().dataDir()))
              + " (set storage.images_url to s3://BUCKET/PREFIX to share images between machines)");
      return;
    }
    try (dev.fluxbot.core.imagestore.ImageStore store =
        dev.fluxbot.core.imagestore.ImageStore.s3(where.get(), ImageStores.credentials(env))) {
      store.check();
      line(
          OK,
          "image store: S3, "
              + where.get().describe()
              + ": writes, reads and deletes work (credentials: "
              + credentials
              + ")");
    } catch (RuntimeException e) {
      String why = e.getMessage() == null ? "image store: " + e : e.getMessage();
      line(FAIL, why + " (credentials: " + credentials + ")");
    }
  }

  /** One line per chat platform, and a failure when none has a token. */
  private void chatTokens(FluxbotConfig config, Environment env) {
    int platforms = 0;
    platforms +=
        present(
            "discord",
            () ->
                env.secret(
                    Environment.DISCORD_TOKEN, config.discord().tokenFile(), "discord.token_file"),
            Environment.DISCORD_TOKEN + " (or discord.token_file)");
    platforms +=
        present(
            "telegram",
            () ->
                env.secret(
                    Environment.TELEGRAM_TOKEN,
                    config.telegram().tokenFile(),
                    "telegram.token_file"),
            Environment.TELEGRAM_TOKEN + " (or telegram.token_file)");
    try {
      if (SlackPlatform.config(env, config.slack()).isPresent()) {
        line(OK, "slack: token set (" + SlackPlatform.BOT_TOKEN + " or slack.bot_token_file)");
        platforms++;
      } else {
        line(
            NOTE,
            "slack: not configured; set "
                + SlackPlatform.BOT_TOKEN
                + " and "
                + SlackPlatform.APP_TOKEN
                + " (or slack.bot_token_file and slack.app_token_file) to use Slack");
      }
    } catch (FluxbotConfig.ConfigException e) {
      line(FAIL, "slack: " + e.getMessage());
    }
    if (platforms == 0) {
      line(
          FAIL,
          "chat platforms: none configured, so fluxbot run has nothing to serve; set "
              + Environment.DISCORD_TOKEN
              + ", "
              + Environment.TELEGRAM_TOKEN
              + " or the Slack tokens");
    }
  }

  /** Whether BFL has a key; none is only a note where the local klein runtime alone may serve. */
  private void bflKey(FluxbotConfig config, Environment env) {
    Optional<Secret> key;
    try {
      key = env.bflKey(config);
    } catch (FluxbotConfig.ConfigException e) {
      line(FAIL, "bfl: " + e.getMessage());
      return;
    }
    if (key.isPresent()) {
      line(OK, "bfl: API key set");
    } else if (config.local().enabled() && !config.local().fallbackToBfl()) {
      line(
          NOTE,
          "bfl: no API key; only the local klein models can run (set "
              + Environment.BFL_API_KEY
              + " for pro, max and flex)");
    } else {
      line(
          FAIL,
          "bfl: no API key; set "
              + Environment.BFL_API_KEY
              + " or bfl.api_key_file (create a key at "
              + "https://dashboard.bfl.ai)");
    }
  }

  private interface SecretLookup {
    Optional<Secret> get();
  }

  private int present(String platform, SecretLookup lookup, String how) {
    try {
      if (lookup.get().isPresent()) {
        line(OK, platform + ": token set");
        return 1;
      }
      line(NOTE, platform + ": not configured; set " + how + " to use " + capitalized(platform));
    } catch (FluxbotConfig.ConfigException e) {
      line(FAIL, platform + ": " + e.getMessage());
    }
    return 0;
  }

  private static String capitalized(String s) {
    return s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1);
  }

  private void local(FluxbotConfig config) {
    LocalRuntimeConfig rc;
    try {
      rc = Wiring.localConfig(config.local(), Path.of(config.storage().dataDir()));
    } catch (FluxbotConfig.ConfigException e) {
      line(FAIL, "local: " + e.getMessage());
      return;
    }
    OkHttpClient http = LocalKleinBackend.defaultHttp();
    for (URI url : rc.workers()) {
      worker(url, http, false);
    }
    if (rc.spawn() != null) {
      spawn(config.local().spawn(), rc.spawn());
      worker(rc.spawn().url(), http, true);
    }
    line(
        NOTE,
        "local klein: fallback to BFL is "
            + (rc.fallbackToBfl() ? "on" : "off (local.fallback_to_bfl)"));
  }

  private void spawn(FluxbotConfig.LocalSpawn s, LocalRuntimeConfig.Spawn spawn) {
    if (s.command().isEmpty() && !executable(s.python())) {
      line(
          FAIL,
          "local.spawn.python: "
              + s.python()
              + " is not an executable program here; install Python 3 with "
              + "PyTorch or point local.spawn.python at it");
    } else {
      line(OK, "local.spawn: starts " + String.join(" ", spawn.command()));
    }
    if (!Files.exists(spawn.checkpoint())) {
      line(
          FAIL,
          "local.spawn.checkpoint: no such file or folder: "
              + spawn.checkpoint()
              + "; point it at the klein "
              + "checkpoint (a Hugging Face folder or BFL's single .safetensors file)");
    }
  }

  private static boolean executable(String program) {
    if (program.contains(File.separator)) {
      return Files.isExecutable(Path.of(program));
    }
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  private void worker(URI url, OkHttpClient http, boolean spawned) {
    String name = "local worker " + url;
    WorkerHealth h;
    try {
      h = LocalKleinBackend.retrieveHealth(url, http);
    } catch (IOException e) {
      if (spawned) {
        line(
            NOTE,
            name
                + ": "
                + LocalKleinBackend.whyUnreachable(e)
                + "; fluxbot run starts it (the spawned worker)");
      } else {
        line(
            FAIL,
            name
                + ": "
                + LocalKleinBackend.whyUnreachable(e)
                + "; start the worker there (PYTHONPATH=runtime-local/worker "
                + "python3 -m fluxbot_klein serve --checkpoint … --listen HOST:PORT) or fix local.workers");
      }
      return;
    }
    String facts =
        h.describe()
            + ", "
            + memory(h.memory())
            + ", queue "
            + h.waiting()
            + " waiting, "
            + h.running()
            + " running (batch "
            + h.batchCapacity()
            + ")";
    if (h.protocol() != 1) {
      line(
          FAIL,
          name
              + ": speaks protocol "
              + h.protocol()
              + ", this fluxbot speaks 1; update the worker or fluxbot");
    } else if (h.ok()) {
      line(OK, name + ": ok, " + facts);
    } else {
      line(
          FAIL,
          name
              + ": "
              + h.status()
              + ", "
              + facts
              + "; wait until it has loaded the model, then run doctor again");
    }
  }

  private static String memory(WorkerHealth.Memory m) {
    String used = gib(m.allocatedBytes());
    return m.totalBytes() > 0
        ? "memory " + used + " of " + gib(m.totalBytes()) + " GiB"
        : "memory " + used + " GiB";
  }

  private static String gib(long bytes) {
    return String.format(Locale.ROOT, "%.1f", bytes / (1024.0 * 1024 * 1024));
  }
}
