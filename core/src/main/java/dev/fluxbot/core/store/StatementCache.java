package dev.fluxbot.core.store;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Keeps SQLite's prepared statements per physical connection, so a statement is compiled once per
 * connection instead of once per call (sqlite-jdbc has no cache of its own; compiling was a quarter
 * of SQLite's time in the pipeline profile, docs/benchmarks.md).
 *
 * <p>{@link #wrap} returns the pool's connection behind a proxy whose {@code prepareStatement(sql)}
 * hands out a cached statement, itself behind a proxy whose {@code close()} clears the parameters
 * and keeps the statement for the next caller instead of finalizing it. Statements are prepared on
 * the physical connection, so the pool does not close them when the connection goes back. Each
 * connection keeps at most {@link #PER_CONNECTION} statements, least recently used dropped first. A
 * connection is used by one thread at a time (the pool's contract), so its map needs no lock.
 */
final class StatementCache {
  static final int PER_CONNECTION = 64;

  private final ConcurrentMap<Connection, Map<String, PreparedStatement>> byConnection =
      new ConcurrentHashMap<>();

  /** The pool's connection with cached statements; everything else passes straight through. */
  Connection wrap(Connection pooled) throws SQLException {
    Connection physical = pooled.unwrap(Connection.class);
    Map<String, PreparedStatement> statements = byConnection.get(physical);
    if (statements == null) {
      byConnection.keySet().removeIf(StatementCache::isClosed); // a connection the pool retired
      statements = new LinkedHashMap<>(32, 0.75f, true);
      byConnection.put(physical, statements);
    }
    Map<String, PreparedStatement> cache = statements;
    InvocationHandler handler =
        (proxy, method, args) -> {
          if (method.getName().equals("prepareStatement") && args != null && args.length == 1) {
            return cached(physical, cache, (String) args[0]);
          }
          return invoke(pooled, method, args);
        };
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, handler);
  }

  /** How many statements are kept for this pool connection (for tests). */
  int size(Connection pooled) throws SQLException {
    Map<String, PreparedStatement> statements = byConnection.get(pooled.unwrap(Connection.class));
    return statements == null ? 0 : statements.size();
  }

  private static PreparedStatement cached(
      Connection physical, Map<String, PreparedStatement> cache, String sql) throws SQLException {
    PreparedStatement statement = cache.get(sql);
    if (statement == null || statement.isClosed()) {
      statement = physical.prepareStatement(sql);
      cache.put(sql, statement);
      if (cache.size() > PER_CONNECTION) {
        var eldest = cache.entrySet().iterator();
        PreparedStatement dropped = eldest.next().getValue();
        eldest.remove();
        dropped.close();
      }
    }
    PreparedStatement target = statement;
    InvocationHandler handler =
        (proxy, method, args) -> {
          if (method.getName().equals("close") && method.getParameterCount() == 0) {
            if (!target.isClosed()) {
              target.clearParameters(); // the statement stays compiled for the next caller
            }
            return null;
          }
          return invoke(target, method, args);
        };
    return (PreparedStatement)
        Proxy.newProxyInstance(
            PreparedStatement.class.getClassLoader(),
            new Class<?>[] {PreparedStatement.class},
            handler);
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static boolean isClosed(Connection c) {
    try {
      return c.isClosed();
    } catch (SQLException e) {
      return true;
    }
  }
}
