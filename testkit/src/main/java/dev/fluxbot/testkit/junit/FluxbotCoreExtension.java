package dev.fluxbot.testkit.junit;

import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.testkit.PostgresServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestInstancePreDestroyCallback;

/**
 * A {@link FluxbotCore} for each test, on a database of its own: SQLite in a temporary folder (the
 * default), or a fresh database on {@link PostgresServer}'s server ({@link #on}). The image store
 * is in the same folder. {@code @RegisterExtension final FluxbotCoreExtension core = new
 * FluxbotCoreExtension(b -> b.backends(backend));} and {@code core.get()} in the test; {@link
 * #start} again is a restart.
 *
 * <p>After the test and its {@code @AfterEach} methods (close a bot on the core there), its cores
 * are stopped as {@code fluxbot run} stops (running jobs finish, up to 10 s), the database is
 * closed and the folder deleted. A core whose jobs use a fake should stop before that fake closes:
 * register this extension after the fakes' with {@code @Order(Integer.MAX_VALUE)} (fields without
 * {@code @Order} come first; after-callbacks run in reverse).
 */
public final class FluxbotCoreExtension
    implements AfterEachCallback, TestInstancePreDestroyCallback {
  /** As long as a running job may take to finish when a core stops. */
  private static final Duration GRACE = Duration.ofSeconds(10);

  private final UnaryOperator<FluxbotCore.Builder> options;
  private Database.Dialect dialect = Database.Dialect.SQLITE;
  private Path folder;
  private String postgresUrl;
  private Database database;
  private FluxbotCore current;
  private final List<FluxbotCore> running = new ArrayList<>();

  public FluxbotCoreExtension() {
    this(UnaryOperator.identity());
  }

  /**
   * @param options applied to every core this extension builds, on top of the database and the
   *     image store's folder
   */
  public FluxbotCoreExtension(UnaryOperator<FluxbotCore.Builder> options) {
    this.options = options;
  }

  /**
   * The kind of database for this test, before its first use. PostgreSQL skips the test where the
   * machine has none (unless {@code FLUXBOT_REQUIRE_POSTGRES=1}, which fails it).
   */
  public synchronized FluxbotCoreExtension on(Database.Dialect dialect) {
    if (folder != null) {
      throw new IllegalStateException("on(" + dialect + ") after the database was made");
    }
    this.dialect = dialect;
    return this;
  }

  /** The running core, started now with the options if there is none. */
  public synchronized FluxbotCore get() {
    return current != null ? current : start(UnaryOperator.identity());
  }

  /**
   * A new core with these options on top of the extension's. Where cores run, this is a restart:
   * they are stopped first ({@link #stop}) and the database opened again (a {@link Database} taken
   * before is closed then).
   */
  public synchronized FluxbotCore start(UnaryOperator<FluxbotCore.Builder> more) {
    if (!running.isEmpty()) {
      stop();
    }
    current = build(more);
    return current;
  }

  /**
   * Another core on the same database and images while the running one goes on: a process that
   * starts while its predecessor hangs or is dying. Stopped with the others.
   */
  public synchronized FluxbotCore startBeside(UnaryOperator<FluxbotCore.Builder> more) {
    return build(more);
  }

  /**
   * Stops every core, the newest first (new jobs refused, running ones given 10 s to finish), and
   * closes the database; the files stay for the next {@link #start}.
   */
  public synchronized void stop() {
    for (FluxbotCore core : running.reversed()) {
      try {
        core.shutdown(GRACE);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      core.close();
    }
    running.clear();
    current = null;
    if (database != null) {
      database.close();
      database = null;
    }
  }

  /** The test's database, opened (again) if it is not. */
  public synchronized Database database() {
    if (database == null) {
      database =
          dialect == Database.Dialect.SQLITE
              ? Database.sqlite(folder().resolve("fluxbot.db"))
              : Database.open(postgresUrl(), null, null);
    }
    return database;
  }

  /** The test's own folder: the SQLite database and the image store ({@code images/}). */
  public synchronized Path folder() {
    if (folder == null) {
      try {
        folder = Files.createTempDirectory("fluxbot-core-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return folder;
  }

  private String postgresUrl() {
    if (postgresUrl == null) {
      if (!PostgresServer.isRequired()) {
        Assumptions.assumeTrue(PostgresServer.isAvailable(), "PostgreSQL binaries not installed");
      }
      postgresUrl = PostgresServer.newDatabaseUrl();
    }
    return postgresUrl;
  }

  private FluxbotCore build(UnaryOperator<FluxbotCore.Builder> more) {
    FluxbotCore core =
        more.apply(
                options.apply(FluxbotCore.builder(database()).imagesIn(folder().resolve("images"))))
            .build();
    running.add(core);
    return core;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    closeAll();
  }

  /** Cleans up after a test instance that never ran a test but made a core. */
  @Override
  public void preDestroyTestInstance(ExtensionContext context) {
    closeAll();
  }

  private synchronized void closeAll() {
    stop();
    if (folder != null) {
      deleteTree(folder);
      folder = null;
    }
    postgresUrl = null; // the next test (one instance for a class) gets a database of its own
    dialect = Database.Dialect.SQLITE;
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort in a temp folder
    }
  }
}
