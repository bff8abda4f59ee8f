-- Deliveries a chat platform may send again (Slack resends an event whose ack was lost): each id
-- runs once, also across a restart. Kept about an hour, pruned as new ones come.
CREATE TABLE delivery_log (
  id VARCHAR(200) PRIMARY KEY,
  seen_at BIGINT NOT NULL
);
CREATE INDEX delivery_log_by_time ON delivery_log (seen_at);
