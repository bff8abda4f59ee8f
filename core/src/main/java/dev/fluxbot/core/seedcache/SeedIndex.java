package dev.fluxbot.core.seedcache;

import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The SQL of the seed cache's index ({@code seed_cache}), one statement per method, on a connection
 * the caller holds.
 *
 * <p>On PostgreSQL, where several bot instances may share the index, writers take a shared advisory
 * lock and the evictor an exclusive one, so a file is never deleted between a writer's check that
 * it exists and its commit. On SQLite every write transaction already holds the database's one
 * write lock.
 */
final class SeedIndex {
  private static final long LOCK_KEY = 0x666c_7578_7365_6564L; // "fluxseed"
  private static final String COLUMNS =
      "fingerprint, image_hash, image_type, width, height, size_bytes, job_id, created_at, last_hit_at, hits";

  /** One row; {@code type} is stored as its API name ({@code jpeg}, {@code png}, {@code webp}). */
  public record Entry(
      String fingerprint,
      String imageHash,
      ImageType type,
      int width,
      int height,
      long sizeBytes,
      String jobId,
      long createdAt,
      long lastHitAt,
      long hits) {}

  /** How many rows, and the sum of their sizes (a shared file counts once per row). */
  public record Totals(long entries, long bytes) {}

  private final Database.Dialect dialect;

  public SeedIndex(Database.Dialect dialect) {
    this.dialect = dialect;
  }

  public void lockForWrite(Connection c) throws SQLException {
    advisoryLock(c, "pg_advisory_xact_lock_shared");
  }

  public void lockForEviction(Connection c) throws SQLException {
    advisoryLock(c, "pg_advisory_xact_lock");
  }

  private void advisoryLock(Connection c, String function) throws SQLException {
    if (dialect != Database.Dialect.POSTGRESQL) {
      return;
    }
    try (PreparedStatement st = c.prepareStatement("SELECT " + function + "(?)")) {
      st.setLong(1, LOCK_KEY);
      st.execute();
    }
  }

  public Optional<Entry> find(Connection c, String fingerprint) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement("SELECT " + COLUMNS + " FROM seed_cache WHERE fingerprint = ?")) {
      st.setString(1, fingerprint);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? Optional.of(entry(rs)) : Optional.empty();
      }
    }
  }

  /**
   * Inserts or replaces the row for {@code e.fingerprint()} (keeping its hit count); returns the
   * row it replaced.
   */
  public Optional<Entry> upsert(Connection c, Entry e) throws SQLException {
    Optional<Entry> previous = find(c, e.fingerprint());
    try (PreparedStatement st =
        c.prepareStatement(
            "INSERT INTO seed_cache ("
                + COLUMNS
                + ")"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET"
                + " image_hash = excluded.image_hash, image_type = excluded.image_type, width = excluded.width,"
                + " height = excluded.height, size_bytes = excluded.size_bytes, job_id = excluded.job_id,"
                + " created_at = excluded.created_at, last_hit_at = excluded.last_hit_at")) {
      st.setString(1, e.fingerprint());
      st.setString(2, e.imageHash());
      st.setString(3, e.type().apiName());
      st.setInt(4, e.width());
      st.setInt(5, e.height());
      st.setLong(6, e.sizeBytes());
      if (e.jobId() == null) {
        st.setNull(7, Types.VARCHAR);
      } else {
        st.setString(7, e.jobId());
      }
      st.setLong(8, e.createdAt());
      st.setLong(9, e.lastHitAt());
      st.setLong(10, e.hits());
      st.executeUpdate();
    }
    return previous;
  }

  /**
   * Counts each hit on its row, if the row still holds the hit's image, moving {@code last_hit_at}
   * forward only (hits from several instances arrive out of order); returns the hits whose row is
   * gone or replaced.
   */
  public List<HitRecorder.Hit> recordHits(Connection c, List<HitRecorder.Hit> hits)
      throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            "UPDATE seed_cache SET"
                + " last_hit_at = CASE WHEN last_hit_at < ? THEN ? ELSE last_hit_at END, hits = hits + ?"
                + " WHERE fingerprint = ? AND image_hash = ?")) {
      for (HitRecorder.Hit h : hits) {
        st.setLong(1, h.at());
        st.setLong(2, h.at());
        st.setLong(3, h.count());
        st.setString(4, h.fingerprint());
        st.setString(5, h.imageHash());
        st.addBatch();
      }
      int[] counts = st.executeBatch();
      List<HitRecorder.Hit> gone = new ArrayList<>();
      for (int i = 0; i < counts.length; i++) {
        if (counts[i]
            == 0) { // not SUCCESS_NO_INFO (-2): a driver that cannot tell counts nothing as gone
          gone.add(hits.get(i));
        }
      }
      return gone;
    }
  }

  /** Deletes the row, if it still holds {@code imageHash}. */
  public boolean delete(Connection c, String fingerprint, String imageHash) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement("DELETE FROM seed_cache WHERE fingerprint = ? AND image_hash = ?")) {
      st.setString(1, fingerprint);
      st.setString(2, imageHash);
      return st.executeUpdate() > 0;
    }
  }

  /**
   * Whether the image must stay: another cache row holds it, a job's answer with it is still to be
   * delivered, or a job not yet finished uses it as a reference. The image of a job already
   * delivered may go: its buttons that need it ("use as reference", the original) then say it is no
   * longer stored. Without this the budget bounded the index but no file ever left the disk, since
   * every cached image is some job's.
   */
  public boolean isNeeded(Connection c, String imageHash) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            "SELECT 1 FROM seed_cache WHERE image_hash = ?"
                + " UNION ALL SELECT 1 FROM jobs WHERE image_hash = ? AND state = 'SUCCEEDED' AND delivered_at IS NULL"
                + " AND reply_address IS NOT NULL"
                + " UNION ALL SELECT 1 FROM jobs WHERE state IN ('QUEUED', 'RUNNING') AND reference_hashes LIKE ?")) {
      st.setString(1, imageHash);
      st.setString(2, imageHash);
      st.setString(3, "%\"" + imageHash + "\"%");
      st.setMaxRows(1);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next();
      }
    }
  }

  public Totals totals(Connection c) throws SQLException {
    try (PreparedStatement st =
            c.prepareStatement("SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM seed_cache");
        ResultSet rs = st.executeQuery()) {
      rs.next();
      return new Totals(rs.getLong(1), rs.getLong(2));
    }
  }

  /**
   * The rows to remove to free {@code excess} bytes: least recently hit first (ties: oldest, then
   * by fingerprint), {@code keepLast} only if the others are not enough. None where excess <= 0.
   * Reads rows in the order of the {@code last_hit_at} index and stops when it has enough.
   */
  public List<Entry> overBudget(Connection c, long excess, String keepLast) throws SQLException {
    List<Entry> victims = new ArrayList<>();
    long left = excess;
    if (left <= 0) {
      return victims;
    }
    try (PreparedStatement st =
        c.prepareStatement(
            "SELECT "
                + COLUMNS
                + " FROM seed_cache WHERE fingerprint <> ?"
                + " ORDER BY last_hit_at, created_at, fingerprint")) {
      st.setString(1, keepLast);
      st.setFetchSize(64);
      try (ResultSet rs = st.executeQuery()) {
        while (left > 0 && rs.next()) {
          Entry e = entry(rs);
          victims.add(e);
          left -= e.sizeBytes();
        }
      }
    }
    if (left > 0) {
      find(c, keepLast).ifPresent(victims::add);
    }
    return victims;
  }

  private static Entry entry(ResultSet rs) throws SQLException {
    String type = rs.getString("image_type");
    return new Entry(
        rs.getString("fingerprint"),
        rs.getString("image_hash"),
        ImageType.fromName(type)
            .orElseThrow(() -> new SQLException("seed_cache.image_type: unknown \"" + type + "\"")),
        rs.getInt("width"),
        rs.getInt("height"),
        rs.getLong("size_bytes"),
        rs.getString("job_id"),
        rs.getLong("created_at"),
        rs.getLong("last_hit_at"),
        rs.getLong("hits"));
  }
}
