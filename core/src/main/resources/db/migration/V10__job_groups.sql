-- Groups of images made by one command (issue 18: /imagine ... --n 4). Each image is a job of its
-- own (its row in jobs: its credits, seed cache entry and history); this table says which jobs make
-- one answer, in which order, so that a restart finishes and delivers an unfinished group once.
-- A job that is no group's member has no row here (every job made before this version).
CREATE TABLE job_groups (
  job_id      VARCHAR(26) PRIMARY KEY,
  group_id    VARCHAR(26) NOT NULL,
  group_index INTEGER     NOT NULL,
  group_size  INTEGER     NOT NULL
);
CREATE INDEX job_groups_by_group ON job_groups (group_id);

-- The default for --n: a user's own (/settings --n 4) and a scope's (an admin's default-n), each
-- 1 to 4. A user's wins over their scope's; a typed --n wins over both.
CREATE TABLE count_defaults (
  platform   VARCHAR(32)  NOT NULL,
  subject    VARCHAR(8)   NOT NULL,   -- 'user' or 'scope'
  subject_id VARCHAR(100) NOT NULL,
  n          INTEGER      NOT NULL,
  updated_at BIGINT       NOT NULL,
  PRIMARY KEY (platform, subject, subject_id)
);
