-- What the backend said a task costs when it was submitted (BFL reports it only in the submit
-- answer). A job resumed after a restart is charged this, not the estimate, and its caption shows it.
ALTER TABLE jobs ADD COLUMN task_cost_milli BIGINT;
