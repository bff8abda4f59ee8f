-- What the backend said a task costs when it was submitted (BFL reports it only in the submit
-- answer). A job resumed after a restart is charged this, not the estimate, and its caption shows it.
ALTER TABLE jobs ADD COLUMN task_cost_milli BIGINT;

-- A reply address can hold a credential (a Discord interaction token acts for the bot for 15
-- minutes). It is needed only until the answer is delivered or the job has failed: the bot now
-- drops it then, and this drops the ones earlier versions kept.
UPDATE jobs SET reply_address = NULL
  WHERE delivered_at IS NOT NULL OR state IN ('FAILED', 'MODERATED', 'CANCELLED');
