package dev.fluxbot.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for tests, started from the machine's own binaries (Debian's {@code
 * postgresql} package: {@code /usr/lib/postgresql/<version>/bin}) in a temporary folder, on a free
 * loopback port, with fsync off. One server per test JVM, started on first use and stopped at exit;
 * each caller gets a fresh database of its own.
 *
 * <p>PostgreSQL refuses to run as root, so as root it runs as the {@code postgres} user (through
 * {@code runuser}). Where no binaries exist, {@link #isAvailable()} is false and tests skip, unless
 * {@code FLUXBOT_REQUIRE_POSTGRES=1} (CI sets it), which turns that into a failure.
 */
public final class PostgresServer {
  private static final String USER = "fluxbot";
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static volatile PostgresServer shared;

  private final Path bin;
  private final Path dataDir;
  private final int port;
  private final boolean asPostgresUser;

  private PostgresServer(Path bin, Path dataDir, int port, boolean asPostgresUser) {
    this.bin = bin;
    this.dataDir = dataDir;
    this.port = port;
    this.asPostgresUser = asPostgresUser;
  }

  /** Whether PostgreSQL's server binaries are on this machine. */
  public static boolean isAvailable() {
    return findBin().isPresent();
  }

  /** Whether a missing PostgreSQL must fail the tests (CI) rather than skip them. */
  public static boolean isRequired() {
    return "1".equals(System.getenv("FLUXBOT_REQUIRE_POSTGRES"));
  }

  /** The shared server, started on first use. */
  public static synchronized PostgresServer shared() {
    if (shared == null) {
      shared = start();
      PostgresServer s = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(s::stop, "postgres-stop"));
    }
    return shared;
  }

  /**
   * A new, empty database on the shared server: its JDBC URL (user {@code fluxbot}, no password).
   */
  public static String newDatabaseUrl() {
    PostgresServer s = shared();
    String name =
        "fluxbot_test_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
    try (Connection c = DriverManager.getConnection(s.url("postgres"), USER, "");
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot create test database " + name + ": " + e.getMessage(), e);
    }
    return s.url(name);
  }

  public String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=" + USER;
  }

  private static Optional<Path> findBin() {
    Path root = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> versions = Files.list(root)) {
      return versions
          .map(v -> v.resolve("bin"))
          .filter(
              b ->
                  Files.isExecutable(b.resolve("initdb"))
                      && Files.isExecutable(b.resolve("pg_ctl")))
          .max(Comparator.comparing(b -> versionOf(b.getParent())));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static int versionOf(Path dir) {
    try {
      return Integer.parseInt(dir.getFileName().toString());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static PostgresServer start() {
    Path bin =
        findBin()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "PostgreSQL server binaries not found under /usr/lib/postgresql; install them (apt-get install postgresql)"));
    boolean root = "root".equals(System.getProperty("user.name"));
    try {
      Path dir = Files.createTempDirectory("fluxbot-pg-");
      Path data = dir.resolve("data");
      int port = freePort();
      PostgresServer server = new PostgresServer(bin, data, port, root);
      if (root) {
        run(List.of("chown", "-R", "postgres:postgres", dir.toString()), dir);
        run(List.of("chmod", "755", dir.toString()), dir);
      }
      server.pg(
          List.of(
              bin.resolve("initdb").toString(),
              "-D",
              data.toString(),
              "-U",
              USER,
              "--auth=trust",
              "-E",
              "UTF8",
              "--no-sync",
              "--locale=C"),
          dir);
      server.pg(
          List.of(
              bin.resolve("pg_ctl").toString(),
              "-D",
              data.toString(),
              "-w",
              "-t",
              "60",
              "-l",
              dir.resolve("server.log").toString(),
              "-o",
              "-p "
                  + port
                  + " -k "
                  + dir
                  + " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                  + " -c full_page_writes=off -c max_connections=200",
              "start"),
          dir);
      return server;
    } catch (IOException e) {
      throw new IllegalStateException("cannot start PostgreSQL: " + e.getMessage(), e);
    }
  }

  /** Stops the server at once and removes its files. */
  public void stop() {
    try {
      pg(
          List.of(
              bin.resolve("pg_ctl").toString(),
              "-D",
              dataDir.toString(),
              "-m",
              "immediate",
              "stop"),
          dataDir.getParent());
    } catch (RuntimeException ignored) {
      // already gone
    }
    deleteTree(dataDir.getParent());
  }

  private void pg(List<String> command, Path dir) {
    List<String> full = new ArrayList<>();
    if (asPostgresUser) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(command);
    run(full, dir);
  }

  private static void run(List<String> command, Path dir) {
    try {
      Path log = Files.createTempFile("fluxbot-pg-cmd", ".log");
      Process p =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + String.join(" ", command));
      }
      String out = Files.readString(log);
      Files.deleteIfExists(log);
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            "failed (" + p.exitValue() + "): " + String.join(" ", command) + "\n" + out);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort in a temp folder
    }
  }
}
