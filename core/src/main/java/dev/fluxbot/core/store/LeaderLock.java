package dev.fluxbot.core.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;
import java.util.Properties;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leadership among the bot instances on one database: of all the locks of one name, one is held at
 * a time, by the instance that should do what only one may (poll Telegram's {@code getUpdates}).
 * Made by {@link Database#leaderLock}.
 *
 * <p>On PostgreSQL it is a session-level advisory lock ({@code pg_try_advisory_lock}) keyed by a
 * stable 64-bit hash of the name, held on a connection of its own, outside the pool. PostgreSQL
 * drops it with that connection: at once when the holding process ends or is killed (its socket
 * closes), and within about 25 seconds when its host vanishes (the connection asks the server for
 * TCP keepalives every 10 s, 5 s apart, 3 tries). The holder {@link #check}s its connection every
 * few seconds; a broken one means it is no longer the leader. On SQLite, where one bot process owns
 * the file, it is always granted.
 *
 * <p>Thread-safe; {@link #close} releases it for good.
 */
public final class LeaderLock implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LeaderLock.class);

  /** How long a check may wait for the server before the lock counts as lost. */
  static final int CHECK_TIMEOUT_SECONDS = 5;

  /** Whom the lock connection's TCP keepalives find dead: 10 s idle, then 3 probes 5 s apart. */
  static final String KEEPALIVES =
      "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3";

  private final String name;
  private final long key;
  private final String jdbcUrl; // null on SQLite: always granted
  private final String user;
  private final String password;
  private final Consumer<LeaderLock> onClose;
  private Connection connection;
  private boolean held;
  private boolean closed;

  private LeaderLock(
      String name, String jdbcUrl, String user, String password, Consumer<LeaderLock> onClose) {
    this.name = Objects.requireNonNull(name, "name");
    this.key = keyOf(name);
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
    this.onClose = onClose;
  }

  /** Always granted: SQLite, one process per file. */
  static LeaderLock always(String name, Consumer<LeaderLock> onClose) {
    return new LeaderLock(name, null, null, null, onClose);
  }

  /** An advisory lock on the PostgreSQL server at {@code jdbcUrl}. */
  static LeaderLock postgres(
      String name, String jdbcUrl, String user, String password, Consumer<LeaderLock> onClose) {
    return new LeaderLock(
        name, Objects.requireNonNull(jdbcUrl, "jdbcUrl"), user, password, onClose);
  }

  /**
   * The 64-bit advisory lock key of a name: the first 8 bytes of its SHA-256, stable everywhere.
   */
  static long keyOf(String name) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(("fluxbot-leader:" + name).getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(digest).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java", e);
    }
  }

  public String name() {
    return name;
  }

  /**
   * Takes the lock if no one holds it; true when this instance holds it now (already or newly). A
   * database that cannot be reached makes no leader: false.
   */
  public synchronized boolean tryAcquire() {
    if (closed) {
      return false;
    }
    if (held) {
      return check();
    }
    if (jdbcUrl == null) {
      held = true;
      return true;
    }
    try {
      Connection c = open();
      boolean got;
      try (PreparedStatement st = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
        st.setQueryTimeout(CHECK_TIMEOUT_SECONDS);
        st.setLong(1, key);
        try (ResultSet rs = st.executeQuery()) {
          got = rs.next() && rs.getBoolean(1);
        }
      } catch (SQLException | RuntimeException e) {
        closeQuietly(c);
        throw e;
      }
      if (!got) {
        closeQuietly(c);
        return false;
      }
      connection = c;
      held = true;
      return true;
    } catch (SQLException e) {
      log.info("leader lock {}: cannot ask the database ({})", name, reason(e));
      return false;
    }
  }

  /**
   * Whether this instance still holds the lock: asks the server on the lock's connection (up to
   * {@value #CHECK_TIMEOUT_SECONDS} s). A broken connection loses the lock (the server drops it
   * with the connection): the holder must stop acting as leader.
   */
  public synchronized boolean check() {
    if (!held) {
      return false;
    }
    if (jdbcUrl == null) {
      return true;
    }
    try (PreparedStatement st =
        connection.prepareStatement(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                + " AND granted AND objsubid = 1 AND classid::bigint = ? AND objid::bigint = ?")) {
      st.setQueryTimeout(CHECK_TIMEOUT_SECONDS);
      st.setLong(1, key >>> 32);
      st.setLong(2, key & 0xFFFF_FFFFL);
      try (ResultSet rs = st.executeQuery()) {
        if (rs.next() && rs.getLong(1) > 0) {
          return true;
        }
      }
      log.warn("leader lock {}: the database no longer lists it as held here", name);
    } catch (SQLException e) {
      log.warn(
          "leader lock {}: its database connection broke ({}); no longer the leader",
          name,
          reason(e));
    }
    drop();
    return false;
  }

  /** Whether the lock was held at the last {@link #tryAcquire} or {@link #check}. */
  public synchronized boolean held() {
    return held;
  }

  /** Lets the lock go (another instance may take it); it can be taken again. */
  public synchronized void release() {
    if (!held) {
      return;
    }
    if (connection != null) {
      try (PreparedStatement st = connection.prepareStatement("SELECT pg_advisory_unlock(?)")) {
        st.setQueryTimeout(CHECK_TIMEOUT_SECONDS);
        st.setLong(1, key);
        st.execute();
      } catch (SQLException e) {
        log.debug("leader lock {}: unlock failed ({}); closing its connection", name, e.toString());
      }
    }
    drop();
  }

  /** Releases the lock for good. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      release();
      closed = true;
    }
    onClose.accept(this);
  }

  private void drop() {
    held = false;
    if (connection != null) {
      closeQuietly(connection); // the server frees a session lock with its connection
      connection = null;
    }
  }

  /** The lock's own connection: not pooled, so it is never handed to other work. */
  private Connection open() throws SQLException {
    Properties p = new Properties();
    if (user != null) {
      p.setProperty("user", user);
    }
    if (password != null) {
      p.setProperty("password", password);
    }
    p.setProperty("ApplicationName", "fluxbot leader lock");
    p.setProperty("tcpKeepAlive", "true");
    p.setProperty("connectTimeout", "10");
    p.setProperty("socketTimeout", "30");
    p.setProperty("options", KEEPALIVES);
    Connection c = DriverManager.getConnection(jdbcUrl, p);
    c.setAutoCommit(true);
    return c;
  }

  /** A failure's innermost message, with any {@code user:password@} masked. */
  private static String reason(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return m.replaceAll("([^\\s/:@()\"']+):[^\\s/@()\"']+@", "$1:***@");
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // it is going anyway
    }
  }

  @Override
  public String toString() {
    return "LeaderLock[" + name + (jdbcUrl == null ? ", always granted]" : "]");
  }
}
