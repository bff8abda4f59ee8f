-- The seed cache index's total size_bytes in one row, changed by every write of the index in the
-- same transaction, so the disk budget is checked without summing the index (and exactly, with
-- several instances sharing the database).
CREATE TABLE seed_cache_total (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  bytes BIGINT  NOT NULL
);

INSERT INTO seed_cache_total (id, bytes) SELECT 1, COALESCE(SUM(size_bytes), 0) FROM seed_cache;
