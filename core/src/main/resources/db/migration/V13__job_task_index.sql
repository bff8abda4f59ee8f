-- BFL's webhook calls name a task: finding its job must not scan the jobs table.
CREATE INDEX jobs_task_id ON jobs (task_id);
