-- Prompt enhancement (--enhance, issue 18): what a job's prompt was before an OpenAI-compatible
-- chat endpoint rewrote it, the rewrites already made (so a repeat gets the same text), and each
-- scope's default. Portable between SQLite and PostgreSQL, like V1.

-- One row per job whose prompt was enhanced, or whose enhancement was asked for and failed. The
-- prompt actually sent stays in jobs.request (JSON), as for every job; this keeps the one typed.
CREATE TABLE job_prompts (
  job_id          VARCHAR(26)  PRIMARY KEY,       -- jobs.id (written just before the job's row)
  original_prompt TEXT         NOT NULL,          -- the prompt as the user typed it
  enhanced_prompt TEXT,                           -- what the endpoint made of it; null: it failed
  enhancer        VARCHAR(200) NOT NULL,          -- the endpoint's model, e.g. llama3.2:3b
  note            TEXT,                           -- why it failed, one line; null when it worked
  created_at      BIGINT       NOT NULL
);

-- Enhancements made, by a hash of (endpoint, model, system prompt, original prompt): the same
-- prompt enhanced again gets the same text, so --enhance with the same seed hits the seed cache.
CREATE TABLE prompt_enhancements (
  cache_key       VARCHAR(64)  PRIMARY KEY,       -- SHA-256 hex
  enhanced_prompt TEXT         NOT NULL,
  created_at      BIGINT       NOT NULL
);

-- A scope's default for --enhance: 1 on, 0 off, null: the installation's (enhance.on_by_default).
ALTER TABLE scope_settings ADD COLUMN enhance INTEGER;
