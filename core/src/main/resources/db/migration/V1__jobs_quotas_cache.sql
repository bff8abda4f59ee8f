-- fluxbot's schema, portable between SQLite and PostgreSQL: times are epoch milliseconds (BIGINT),
-- money is millicredits (BIGINT; 1 credit = $0.01 = 1000 millicredits), booleans are 0/1 INTEGERs,
-- structured values are JSON text.

-- Every /imagine is a job; a restart resumes the ones in flight from here.
CREATE TABLE jobs (
  id               VARCHAR(26)  PRIMARY KEY,      -- time-ordered (JobIds)
  platform         VARCHAR(32)  NOT NULL,
  user_id          VARCHAR(128) NOT NULL,
  scope_id         VARCHAR(128) NOT NULL,         -- guild/workspace/chat, '*' in a DM or the CLI
  requester        TEXT         NOT NULL,         -- JSON: the Requester
  command_text     TEXT         NOT NULL,         -- as typed
  request          TEXT         NOT NULL,         -- JSON: the normalized request, seed and size resolved
  reference_hashes TEXT         NOT NULL,         -- JSON array of the references' SHA-256, in order
  reply_address    TEXT,                          -- JSON: where the answer goes (the adapter's own)
  state            VARCHAR(16)  NOT NULL,         -- QUEUED RUNNING SUCCEEDED FAILED MODERATED CANCELLED
  model            VARCHAR(64)  NOT NULL,
  seed             BIGINT       NOT NULL,
  fingerprint      VARCHAR(64),                   -- the seed cache key; null where never cached
  backend          VARCHAR(64),
  task_id          VARCHAR(128),                  -- the backend's task (BFL's id)
  polling_url      TEXT,                          -- BFL's polling URL, to resume after a restart
  estimate_milli   BIGINT       NOT NULL,
  cost_milli       BIGINT,                        -- what was charged in the end
  cached           INTEGER      NOT NULL DEFAULT 0,
  image_hash       VARCHAR(64),                   -- in the image store
  image_type       VARCHAR(8),
  width            INTEGER,
  height           INTEGER,
  parent_job_id    VARCHAR(26),                   -- for follow-ups: the job whose button made this one
  follow_up        VARCHAR(16),
  created_at       BIGINT       NOT NULL,
  started_at       BIGINT,
  finished_at      BIGINT,
  error_code       VARCHAR(32),
  error_message    TEXT
);
CREATE INDEX jobs_by_user ON jobs (platform, user_id, created_at);
CREATE INDEX jobs_by_state ON jobs (state);

-- Admin settings: credits per period for a scope, a role or a user; the most specific wins.
CREATE TABLE quota_rules (
  platform      VARCHAR(32)  NOT NULL,            -- '*' for every platform
  scope_id      VARCHAR(128) NOT NULL,            -- '*' for every scope
  subject_kind  VARCHAR(8)   NOT NULL,            -- scope | role | user
  subject_id    VARCHAR(128) NOT NULL,            -- '*' for kind scope
  period        VARCHAR(8)   NOT NULL,            -- day | week | month
  credits_milli BIGINT       NOT NULL,
  updated_at    BIGINT       NOT NULL,
  PRIMARY KEY (platform, scope_id, subject_kind, subject_id)
);

-- One row per account and window: what was spent, what is held by running jobs, what was granted.
CREATE TABLE quota_usage (
  account        VARCHAR(300) NOT NULL,           -- user:<platform>:<scope>:<user>, or bfl:spend
  window_start   BIGINT       NOT NULL,
  spent_milli    BIGINT       NOT NULL DEFAULT 0,
  reserved_milli BIGINT       NOT NULL DEFAULT 0,
  granted_milli  BIGINT       NOT NULL DEFAULT 0,
  PRIMARY KEY (account, window_start)
);

-- A job's hold on an account: reserved before it runs, committed or refunded once it ends.
CREATE TABLE quota_reservations (
  job_id        VARCHAR(26)  NOT NULL,
  account       VARCHAR(300) NOT NULL,
  window_start  BIGINT       NOT NULL,
  amount_milli  BIGINT       NOT NULL,
  state         VARCHAR(12)  NOT NULL,            -- HELD | COMMITTED | REFUNDED
  settled_milli BIGINT,
  model         VARCHAR(64)  NOT NULL,
  created_at    BIGINT       NOT NULL,
  settled_at    BIGINT,
  PRIMARY KEY (job_id, account)
);
CREATE INDEX quota_reservations_held ON quota_reservations (state, account);

CREATE TABLE bans (
  platform   VARCHAR(32)  NOT NULL,
  scope_id   VARCHAR(128) NOT NULL,               -- '*' for every scope
  user_id    VARCHAR(128) NOT NULL,
  reason     TEXT,
  created_at BIGINT       NOT NULL,
  PRIMARY KEY (platform, scope_id, user_id)
);

-- The seed cache's index; the images themselves live in the content-addressed image store.
CREATE TABLE seed_cache (
  fingerprint VARCHAR(64) PRIMARY KEY,            -- SHA-256 of the canonical request
  image_hash  VARCHAR(64) NOT NULL,
  image_type  VARCHAR(8)  NOT NULL,
  width       INTEGER     NOT NULL,
  height      INTEGER     NOT NULL,
  size_bytes  BIGINT      NOT NULL,
  job_id      VARCHAR(26),
  created_at  BIGINT      NOT NULL,
  last_hit_at BIGINT      NOT NULL,
  hits        BIGINT      NOT NULL DEFAULT 0
);
CREATE INDEX seed_cache_by_last_hit ON seed_cache (last_hit_at);

-- Per-user memory: the last seed (for --seed last) and the last job.
CREATE TABLE user_state (
  platform    VARCHAR(32)  NOT NULL,
  user_id     VARCHAR(128) NOT NULL,
  last_seed   BIGINT,
  last_job_id VARCHAR(26),
  updated_at  BIGINT       NOT NULL,
  PRIMARY KEY (platform, user_id)
);
