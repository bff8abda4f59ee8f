-- BFL's webhook calls name a task: finding its job must not scan the jobs table.
CREATE INDEX jobs_task_id ON jobs (task_id);
-- A call that reached another instance than the one whose job waits for it, kept for that one.
ALTER TABLE jobs ADD COLUMN backend_call TEXT;
