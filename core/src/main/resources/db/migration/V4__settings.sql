-- What admins set for a guild/workspace/chat, and what each user prefers.
CREATE TABLE scope_settings (
  platform         VARCHAR(32)  NOT NULL,
  scope_id         VARCHAR(128) NOT NULL,
  default_model    VARCHAR(64),                   -- null: the bot's default
  max_safety       INTEGER,                       -- null: the bot's maximum
  allowed_channels TEXT,                          -- JSON array of channel ids; null: every channel
  updated_at       BIGINT       NOT NULL,
  PRIMARY KEY (platform, scope_id)
);

CREATE TABLE user_settings (
  platform       VARCHAR(32)  NOT NULL,
  user_id        VARCHAR(128) NOT NULL,
  default_model  VARCHAR(64),
  default_aspect VARCHAR(32),
  default_format VARCHAR(8),
  updated_at     BIGINT       NOT NULL,
  PRIMARY KEY (platform, user_id)
);
