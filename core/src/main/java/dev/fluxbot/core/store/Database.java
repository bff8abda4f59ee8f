package dev.fluxbot.core.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fluxbot.core.Secret;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database: embedded SQLite by default (one file, WAL), PostgreSQL for several bot instances,
 * the same schema on both (Flyway migrations in {@code db/migration}).
 *
 * <p>Writes go through {@link #transaction}: on SQLite every transaction begins IMMEDIATE (it takes
 * the write lock first, so two writers never deadlock on an upgrade), and writers of this process
 * queue on an in-process lock first: SQLite allows one writer anyway, and its own busy handler
 * waits by sleeping (1, 2, 5, 10 ms…), so the next writer would start late (docs/benchmarks.md). On
 * PostgreSQL the code locks the rows it changes. A transaction that loses a race (SQLITE_BUSY past
 * the timeout, a serialization failure or deadlock on PostgreSQL) is run again, a few times.
 *
 * <p>Transactions nest by joining: a {@link #transaction} or {@link #read} called on a thread that
 * is already inside a transaction of this database runs on that transaction's connection, and
 * commits or rolls back with it. That is how one job's writes in several stores (the job row and
 * its credit reservation; the charge, the SUCCEEDED row and the last seed) become one transaction
 * each. Work that must only happen once the data is committed (a memory cache update) goes to
 * {@link #afterCommit}.
 *
 * <p>On SQLite each pooled connection keeps its prepared statements ({@link StatementCache}), and
 * connections are not retired by age (a local file needs no recycling). WAL checkpoints run on a
 * background thread ({@link Checkpointer}), not on whichever commit crosses SQLite's threshold.
 */
public final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);
  private static final int MAX_ATTEMPTS = 5;
  private static final Set<String> RETRYABLE_STATES = Set.of("40001", "40P01");

  /** The SQL dialects fluxbot speaks. */
  public enum Dialect {
    SQLITE,
    POSTGRESQL
  }

  /** Work inside one connection; the connection is not to be kept. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  private final HikariDataSource dataSource;
  private final Dialect dialect;
  private final String description;
  private final java.util.concurrent.locks.ReentrantLock writer =
      new java.util.concurrent.locks.ReentrantLock();
  private final ThreadLocal<Open> current = new ThreadLocal<>();
  private final StatementCache statements;
  private final Checkpointer checkpointer;
  private volatile boolean closed;
  private final LongAdder commits = new LongAdder();
  private final Set<LeaderLock> leaderLocks = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** The transaction a thread is in: its connection and what waits for its commit. */
  private static final class Open {
    final Connection connection;
    final java.util.List<Runnable> afterCommit = new java.util.ArrayList<>(2);

    Open(Connection connection) {
      this.connection = connection;
    }
  }

  private Database(HikariDataSource dataSource, Dialect dialect, String description) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.description = description;
    this.statements = dialect == Dialect.SQLITE ? new StatementCache() : null;
    this.checkpointer =
        dialect == Dialect.SQLITE ? new Checkpointer(dataSource, writer, description) : null;
  }

  /** The embedded default: {@code <dataDir>/fluxbot.db}, created (with its folder) on first use. */
  public static Database sqlite(Path file) {
    return sqlite(file, 0);
  }

  /**
   * {@link #sqlite(Path)} with at most {@code maxConnections} pooled connections (0: the default).
   */
  public static Database sqlite(Path file, int maxConnections) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      Files.createDirectories(parent);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(
          "cannot create the data folder for " + file + ": " + e.getMessage(), e);
    }
    return open("jdbc:sqlite:" + file.toAbsolutePath(), null, null, maxConnections);
  }

  /** The page size of a database file this class creates; an existing file keeps its own. */
  static final int SQLITE_PAGE_BYTES = 2048;

  /**
   * Creates a new SQLite file with {@link #SQLITE_PAGE_BYTES}-byte pages, in WAL mode (does nothing
   * when the file exists). A commit writes every page it changed to the WAL in full, and the
   * checkpoints force all of it to disk; a job's rows and index entries are small, so with half the
   * page size its commits write about half the bytes (docs/benchmarks.md §4e). The page size can
   * only be chosen before the first table exists, and before the switch to WAL, so it is done here
   * rather than by the pool's connection settings, which may apply {@code journal_mode} first.
   */
  static void createSqliteFile(Path file) {
    if (Files.exists(file)) {
      return;
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement()) {
      st.execute("PRAGMA page_size = " + SQLITE_PAGE_BYTES);
      st.execute("PRAGMA journal_mode = WAL"); // writes the header, which fixes the page size
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot create the database " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Opens {@code jdbc:sqlite:…} or {@code jdbc:postgresql:…} and brings the schema up to date.
   *
   * @param password may be null (SQLite, or trust/peer authentication)
   */
  public static Database open(String jdbcUrl, String user, Secret password) {
    return open(jdbcUrl, user, password, 0);
  }

  /**
   * The pool size where none is asked for: SQLite's writers and readers, and a bot's share of a
   * PostgreSQL server.
   */
  static final int SQLITE_POOL = 4;

  static final int POSTGRES_POOL = 10;

  /**
   * Like {@link #open(String, String, Secret)} with at most {@code maxConnections} pooled
   * connections (0: the default, {@value #SQLITE_POOL} on SQLite and {@value #POSTGRES_POOL} on
   * PostgreSQL). A PostgreSQL pool opens connections as they are needed, not all of them up front.
   *
   * @throws UnavailableException when the server refuses the connection or does not answer
   * @throws IllegalStateException when the database cannot be opened or migrated for another reason
   */
  public static Database open(String jdbcUrl, String user, Secret password, int maxConnections) {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    if (maxConnections < 0 || maxConnections == 1) {
      throw new IllegalArgumentException(
          "database pool size: must be 0 (the default) or at least 2 (a migration holds "
              + "two connections); got "
              + maxConnections);
    }
    Dialect dialect = dialectOf(jdbcUrl);
    if (dialect == Dialect.SQLITE) {
      sqliteFile(jdbcUrl).ifPresent(Database::createSqliteFile);
    }
    HikariConfig config = poolConfig(jdbcUrl, user, password, dialect, maxConnections);
    HikariDataSource ds;
    try {
      ds = new HikariDataSource(config);
    } catch (RuntimeException e) {
      if (UnavailableException.isUnavailable(e)) {
        throw new UnavailableException(redact(jdbcUrl), rootMessage(e), e);
      }
      throw new IllegalStateException(
          "cannot open the database " + redact(jdbcUrl) + ": " + rootMessage(e), e);
    }
    Database db = new Database(ds, dialect, redact(jdbcUrl));
    try {
      db.migrate();
      if (db.checkpointer != null) {
        db.checkpointer.start();
      }
    } catch (SchemaVersions.NewerSchemaException e) {
      ds.close();
      throw e; // says what to do
    } catch (RuntimeException e) {
      ds.close();
      throw new IllegalStateException(
          "cannot migrate the database " + redact(jdbcUrl) + ": " + rootMessage(e), e);
    }
    return db;
  }

  /** The pool's settings: SQLite's pragmas and a pool kept full, PostgreSQL's opened on demand. */
  private static HikariConfig poolConfig(
      String jdbcUrl, String user, Secret password, Dialect dialect, int maxConnections) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    config.setPoolName("fluxbot-db");
    config.setConnectionTimeout(Duration.ofSeconds(30).toMillis());
    if (user != null) {
      config.setUsername(user);
    }
    if (password != null) {
      config.setPassword(password.reveal());
    }
    if (dialect == Dialect.SQLITE) {
      config.setMaximumPoolSize(maxConnections == 0 ? SQLITE_POOL : maxConnections);
      config.addDataSourceProperty("journal_mode", "WAL");
      config.addDataSourceProperty("synchronous", "NORMAL");
      config.addDataSourceProperty("busy_timeout", "30000");
      config.addDataSourceProperty("foreign_keys", "true");
      config.addDataSourceProperty("transaction_mode", "IMMEDIATE");
      config.addDataSourceProperty(
          "jdbc.get_generated_keys", "false"); // else every INSERT runs a second query
      config.setMaxLifetime(
          0); // keep connections (and their cached statements); a local file needs no recycling
      config.setMinimumIdle(config.getMaximumPoolSize());
      config.addDataSourceProperty(
          "wal_autocheckpoint", "0"); // the Checkpointer does it, off the writers' path
    } else {
      config.setMaximumPoolSize(maxConnections == 0 ? POSTGRES_POOL : maxConnections);
      config.setMinimumIdle(1);
    }
    return config;
  }

  /**
   * The file of a {@code jdbc:sqlite:<path>} URL; empty for in-memory databases and URLs with
   * options.
   */
  static Optional<Path> sqliteFile(String jdbcUrl) {
    String rest = jdbcUrl.substring("jdbc:sqlite:".length());
    if (rest.isEmpty() || rest.contains("?") || rest.startsWith(":") || rest.startsWith("file:")) {
      return Optional.empty();
    }
    return Optional.of(Path.of(rest).toAbsolutePath());
  }

  static Dialect dialectOf(String jdbcUrl) {
    String url = jdbcUrl.toLowerCase(Locale.ROOT);
    if (url.startsWith("jdbc:sqlite:")) {
      return Dialect.SQLITE;
    }
    if (url.startsWith("jdbc:postgresql:")) {
      return Dialect.POSTGRESQL;
    }
    throw new IllegalArgumentException(
        "database URL: must start with jdbc:sqlite: or jdbc:postgresql:; got \""
            + redact(jdbcUrl)
            + "\"");
  }

  private void migrate() {
    Flyway flyway = SchemaVersions.flyway(dataSource);
    SchemaVersions.refuseNewer(flyway); // an older fluxbot on a newer schema: refused, not run
    var result = flyway.migrate();
    if (result.migrationsExecuted > 0) {
      log.info(
          "database {}: applied {} migration(s), now at version {}",
          description,
          result.migrationsExecuted,
          result.targetSchemaVersion);
    }
  }

  public Dialect dialect() {
    return dialect;
  }

  /**
   * A {@link LeaderLock} named {@code name} (e.g. {@code telegram-polling:<bot id>}), not yet
   * taken: of all the instances on this database, one holds a name at a time (on SQLite, always
   * this one). Closed with the database.
   */
  public LeaderLock leaderLock(String name) {
    requireOpen();
    LeaderLock lock =
        dialect == Dialect.SQLITE
            ? LeaderLock.always(name, leaderLocks::remove)
            : LeaderLock.postgres(
                name,
                dataSource.getJdbcUrl(),
                dataSource.getUsername(),
                dataSource.getPassword(),
                leaderLocks::remove);
    leaderLocks.add(lock);
    return lock;
  }

  public DataSource dataSource() {
    return dataSource;
  }

  /**
   * Runs {@code work} in one transaction, committed if it returns, rolled back if it throws. Inside
   * another transaction of this database on the same thread, it joins that one instead: what it
   * throws then rolls back the whole transaction, so the caller must let it through, not swallow
   * it.
   */
  public <T> T transaction(Work<T> work) {
    Open open = current.get();
    if (open != null) {
      return joined(open, work);
    }
    Committed<T> done;
    if (dialect != Dialect.SQLITE) {
      requireOpen();
      done = attempts(work);
    } else {
      writer.lock();
      try {
        requireOpen(); // under the writer lock: close() takes it, so no write runs while the pool
        // closes
        done = attempts(work);
      } finally {
        writer.unlock();
      }
    }
    // only now: the connection is back in the pool (sqlite-jdbc opens the next transaction on it at
    // once, holding SQLite's write lock until then) and this process's writer lock is free
    commits.increment();
    if (checkpointer != null) {
      checkpointer.committed();
    }
    done.open().afterCommit.forEach(Runnable::run);
    return done.result();
  }

  /**
   * Write transactions this object committed (joined ones count once, with the one they joined).
   */
  public long commits() {
    return commits.sum();
  }

  /** A committed transaction's result and what waits for it. */
  private record Committed<T>(T result, Open open) {}

  /**
   * Runs {@code action} once the current transaction commits (never if it rolls back), or at once
   * when the thread is in no transaction of this database.
   */
  public void afterCommit(Runnable action) {
    Objects.requireNonNull(action, "action");
    Open open = current.get();
    if (open == null) {
      action.run();
    } else {
      open.afterCommit.add(action);
    }
  }

  /** Whether this thread is inside a transaction of this database. */
  public boolean inTransaction() {
    return current.get() != null;
  }

  private <T> T joined(Open open, Work<T> work) {
    try {
      return work.run(open.connection);
    } catch (SQLException e) {
      throw new NestedFailure(e);
    }
  }

  private <T> Committed<T> attempts(Work<T> work) {
    SQLException last = null;
    for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      Open open;
      try (Connection pooled = dataSource.getConnection()) {
        Connection c = statements == null ? pooled : statements.wrap(pooled);
        c.setAutoCommit(false);
        open = new Open(c);
        current.set(open);
        T result;
        try {
          result = work.run(c);
          c.commit();
        } catch (NestedFailure e) {
          rollbackQuietly(c);
          throw e.getCause();
        } catch (SQLException | RuntimeException e) {
          rollbackQuietly(c);
          throw e;
        } finally {
          current.remove();
        }
        return new Committed<>(result, open);
      } catch (SQLException e) {
        if (!isRetryable(e) || attempt == MAX_ATTEMPTS) {
          throw new StoreException("database " + description + ": " + e.getMessage(), e);
        }
        last = e;
        log.debug(
            "transaction lost a race ({}); attempt {} of {}",
            e.getSQLState(),
            attempt + 1,
            MAX_ATTEMPTS);
        Thread.onSpinWait();
      }
    }
    throw new StoreException("database " + description + ": " + last.getMessage(), last);
  }

  /**
   * Runs {@code work} with auto-commit, for reads and single statements; inside a transaction, in
   * it.
   */
  public <T> T read(Work<T> work) {
    Open open = current.get();
    if (open != null) {
      return joined(open, work);
    }
    requireOpen();
    try (Connection pooled = dataSource.getConnection()) {
      return work.run(statements == null ? pooled : statements.wrap(pooled));
    } catch (SQLException e) {
      throw new StoreException("database " + description + ": " + e.getMessage(), e);
    }
  }

  /**
   * Carries a joined transaction's SQL failure out to the outermost one, which decides on a retry.
   */
  private static final class NestedFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NestedFailure(SQLException cause) {
      super(cause);
    }

    @Override
    public synchronized SQLException getCause() {
      return (SQLException) super.getCause();
    }
  }

  private boolean isRetryable(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException s) {
        if (s.getSQLState() != null && RETRYABLE_STATES.contains(s.getSQLState())) {
          return true;
        }
        String m = s.getMessage() == null ? "" : s.getMessage();
        if (dialect == Dialect.SQLITE
            && (m.contains("SQLITE_BUSY") || m.contains("database is locked"))) {
          return true;
        }
      }
    }
    return false;
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // the original failure matters more
    }
  }

  /**
   * The JDBC URL with any password masked, for logs and messages: {@code password=…} and {@code
   * user:password@}.
   */
  public static String redact(String jdbcUrl) {
    return maskUserInfo(jdbcUrl.replaceAll("(?i)(password=)[^&;]*", "$1***"));
  }

  /** Any {@code user:password@} in a URL or a message, the password masked. */
  private static String maskUserInfo(String text) {
    return text.replaceAll("([^\\s/:@()\"']+):[^\\s/@()\"']+@", "$1:***@");
  }

  /**
   * The server refused the connection or did not answer: nothing in the settings is wrong (a wrong
   * password or database name is not this). The message says what to try.
   */
  public static final class UnavailableException extends IllegalStateException {
    UnavailableException(String url, String reason, Throwable cause) {
      super(
          "the database "
              + url
              + " "
              + (tooManyClients(cause)
                  ? "refused the connection because it has too many clients ("
                      + reason
                      + "). Run fewer fluxbot processes at "
                      + "once, lower storage.database_pool_size, or raise the server's max_connections."
                  : "did not accept a connection ("
                      + reason
                      + "). Check that it is running and reachable, then try again."),
          cause);
    }

    /**
     * SQLSTATE class 08 (connection exception), 53300 (too many connections) or 57P03 (cannot
     * connect now).
     */
    static boolean isUnavailable(Throwable e) {
      String state = sqlState(e);
      return state != null
          && (state.startsWith("08") || state.equals("53300") || state.equals("57P03"));
    }

    private static boolean tooManyClients(Throwable e) {
      return "53300".equals(sqlState(e));
    }

    private static String sqlState(Throwable e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null) {
          return sql.getSQLState();
        }
      }
      return null;
    }
  }

  /**
   * The innermost cause's message, with any {@code user:password@} in it masked (a driver may
   * repeat the URL's host part).
   */
  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : maskUserInfo(t.getMessage());
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    if (checkpointer != null) {
      checkpointer.close();
    }
    for (LeaderLock lock : List.copyOf(leaderLocks)) {
      lock.close();
    }
    // A write that began waits for its end (its connection goes back to the pool, so none is left
    // holding SQLite's write lock for the next opener); later ones fail with "closed".
    writer.lock();
    try {
      closed = true;
      dataSource.close();
    } finally {
      writer.unlock();
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new StoreException("database " + description + " is closed", null);
    }
  }

  @Override
  public String toString() {
    return "Database[" + dialect + " " + description + "]";
  }

  /** A storage failure: not the user's fault; the message names the database, never a password. */
  public static final class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StoreException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
