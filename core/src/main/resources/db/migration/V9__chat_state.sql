-- Chat state that several bot instances on one database share (issue 16).
--
-- Groups of messages a platform sends one by one but that make one command (a Telegram album):
-- each instance that receives an item adds it here; the item added last names the group's
-- last_token, and the instance holding that token claims the group (sets closed_at) once no other
-- item came for the quiet period, so the group runs once whichever instances got its items. A
-- closed group's items stay a while, so a reply to one item can use all of them.
CREATE TABLE chat_groups (
  group_key VARCHAR(200) PRIMARY KEY,
  last_token VARCHAR(64) NOT NULL,
  closed_at BIGINT,
  touched_at BIGINT NOT NULL
);
CREATE INDEX chat_groups_by_time ON chat_groups (touched_at);

CREATE TABLE chat_group_items (
  group_key VARCHAR(200) NOT NULL,
  item_id VARCHAR(100) NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (group_key, item_id)
);

-- What an open form needs when it is submitted (a Slack message shortcut's files), keyed by a
-- random id the form carries; taken once, or dropped when it expires.
CREATE TABLE pending_forms (
  id VARCHAR(64) PRIMARY KEY,
  payload TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX pending_forms_by_expiry ON pending_forms (expires_at);
