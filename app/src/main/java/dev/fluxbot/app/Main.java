package dev.fluxbot.app;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fluxbot}: the command line. */
@Command(
    name = "fluxbot",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Self-hosted FLUX.2 image bot.",
    subcommands = {
      RunCli.class,
      ImagineCli.class,
      QuotaCli.class,
      FilterCli.class,
      JobsCli.class,
      DoctorCli.class,
      BackupCli.class,
      RestoreCli.class,
      CommandLine.HelpCommand.class
    })
public final class Main {
  /** 0: done. */
  static final int OK = 0;

  /** 1: a backend failed, or moderation blocked the image. */
  static final int BACKEND_FAILURE = 1;

  /** 2: the user's input or the configuration is wrong. */
  static final int USER_ERROR = 2;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      scope = CommandLine.ScopeType.INHERIT,
      description =
          "Config file (default: $FLUXBOT_CONFIG, else ./fluxbot.yaml if present, else built-in defaults).")
  Path config;

  @Option(
      names = {"-v", "--verbose"},
      scope = CommandLine.ScopeType.INHERIT,
      description = "Log what happens (-vv: fluxbot's debug lines too).")
  boolean[] verbosity = new boolean[0];

  /** The process environment (tests give their own). */
  Environment environment = Environment.system();

  public static void main(String[] args) {
    System.exit(
        run(
            args,
            Environment.system(),
            new PrintWriter(System.out, true),
            new PrintWriter(System.err, true)));
  }

  static int run(String[] args, Environment env, PrintWriter out, PrintWriter err) {
    Main main = new Main();
    main.environment = env;
    CommandLine cli = new CommandLine(main);
    cli.setOut(out);
    PrintWriter console = Logs.console(err); // in log.format json, each line becomes JSON
    cli.setErr(console);
    cli.setExecutionStrategy(
        parsed -> {
          Logs.verbosity(main.verbosity.length);
          return new CommandLine.RunLast().execute(parsed);
        });
    // The prompt may begin with a flag ("--ar 16:9 a fox"): it is the COMMAND, not an unknown
    // option.
    cli.getSubcommands().get("imagine").setUnmatchedOptionsArePositionalParams(true);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parsed) -> lastResort(e, main.verbosity.length > 0, console));
    int code = cli.execute(args);
    Logs.exited(code);
    return code;
  }

  /**
   * What no command caught: one line on stderr (the stack trace only with {@code -v}). A database
   * that refuses or does not answer is exit 1, like a backend; anything else is a defect of ours.
   */
  static int lastResort(Exception e, boolean verbose, PrintWriter err) {
    if (e instanceof dev.fluxbot.core.store.Database.UnavailableException unavailable) {
      err.println("fluxbot: " + unavailable.getMessage());
    } else {
      err.println(
          "fluxbot: unexpected error ("
              + e.getClass().getSimpleName()
              + (e.getMessage() == null ? "" : ": " + firstLine(e.getMessage()))
              + ")"
              + (verbose
                  ? ""
                  : "; run again with -v to see where it happened, and report it if it persists"));
    }
    if (verbose) {
      e.printStackTrace(err);
    }
    err.flush();
    return BACKEND_FAILURE;
  }

  private static String firstLine(String message) {
    int end = message.indexOf('\n');
    return end < 0 ? message : message.substring(0, end);
  }

  /** Work on the store the bot uses; returns an exit code. */
  @FunctionalInterface
  interface StoreWork {
    int run(Wiring wiring, PrintWriter out, PrintWriter err);
  }

  /**
   * Opens the configured store, runs {@code work}, closes it; a configuration or input problem
   * becomes a message on stderr and exit code 2.
   */
  int withStore(CommandLine.Model.CommandSpec spec, StoreWork work) {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try (Wiring wiring = new Wiring(loadConfig(environment), environment, true)) {
      return work.run(wiring, out, err);
    } catch (FluxbotConfig.ConfigException | IllegalArgumentException e) {
      err.println("fluxbot: " + e.getMessage());
      return USER_ERROR;
    }
  }

  /** The config the flags, the environment and the working folder point at. */
  FluxbotConfig loadConfig(Environment env) {
    FluxbotConfig config = ConfigFile.load(configFile(env).orElse(null), env.configOverrides());
    Logs.format(config.log().format(env)); // text or json from here on
    return config;
  }

  /**
   * The config file: {@code --config}, else {@code $FLUXBOT_CONFIG}, else {@code ./fluxbot.yaml} if
   * present.
   */
  Optional<Path> configFile(Environment env) {
    return Optional.ofNullable(config)
        .or(() -> env.get(Environment.CONFIG).map(Path::of))
        .or(() -> Optional.of(Path.of("fluxbot.yaml")).filter(Files::isRegularFile));
  }

  /**
   * The bot logs what it does (a line per platform and backend); the libraries' start-up lines only
   * with {@code -v} ({@link Logs}).
   */
  void logLevelAtLeastInfo() {
    Logs.fluxbotAtLeastInfo();
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"fluxbot " + (v == null ? "(development build)" : v)};
    }
  }
}
