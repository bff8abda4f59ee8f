package dev.fluxbot.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatementCacheTest {
  @TempDir Path dir;

  private Connection raw;
  private final StatementCache cache = new StatementCache();

  @BeforeEach
  void open() throws SQLException {
    raw = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("t.db"));
    try (var st = raw.createStatement()) {
      st.executeUpdate("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
    }
  }

  @AfterEach
  void close() throws SQLException {
    raw.close();
  }

  private static String value(Connection c, int key) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT v FROM t WHERE k = ?")) {
      ps.setInt(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  @Test
  void theSameSqlGetsTheSameCompiledStatementAndCloseOnlyClearsItsParameters() throws SQLException {
    Connection c = cache.wrap(raw);
    PreparedStatement first;
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (k, v) VALUES (?, ?)")) {
      first = ps.unwrap(PreparedStatement.class);
      ps.setInt(1, 1);
      ps.setString(2, "fox");
      ps.executeUpdate();
    }
    assertThat(first.isClosed()).isFalse();
    try (PreparedStatement ps =
        cache.wrap(raw).prepareStatement("INSERT INTO t (k, v) VALUES (?, ?)")) {
      assertThat(ps.unwrap(PreparedStatement.class)).isSameAs(first);
      ps.setInt(1, 2);
      ps.setString(2, "hare");
      ps.executeUpdate();
    }
    assertThat(value(c, 1)).isEqualTo("fox");
    assertThat(value(c, 2)).isEqualTo("hare");
    assertThat(value(c, 3)).isNull();
    assertThat(cache.size(raw)).isEqualTo(2);
  }

  @Test
  void eachConnectionKeepsAtMostItsLimitAndClosesWhatItDrops() throws SQLException {
    Connection c = cache.wrap(raw);
    PreparedStatement oldest;
    try (PreparedStatement ps = c.prepareStatement("SELECT 0")) {
      oldest = ps.unwrap(PreparedStatement.class);
    }
    for (int i = 1; i <= StatementCache.PER_CONNECTION; i++) {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + i);
          ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).isEqualTo(i);
      }
    }
    assertThat(cache.size(raw)).isEqualTo(StatementCache.PER_CONNECTION);
    assertThat(oldest.isClosed()).isTrue();
  }

  @Test
  void otherCallsPassThroughToThePooledConnection() throws SQLException {
    Connection c = cache.wrap(raw);
    c.setAutoCommit(false);
    try (var st = c.createStatement()) {
      st.executeUpdate("INSERT INTO t (k, v) VALUES (7, 'owl')");
    }
    c.rollback();
    assertThat(raw.getAutoCommit()).isFalse();
    c.setAutoCommit(true);
    assertThat(value(c, 7)).isNull();
  }
}
