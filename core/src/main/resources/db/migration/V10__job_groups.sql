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
