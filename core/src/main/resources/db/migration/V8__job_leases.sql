-- Several bot instances on one PostgreSQL: each job row names the instance that owns it and until
-- when (a lease, renewed by that instance's heartbeat). Another instance takes a job over only once
-- its lease has run out, so no job is run, charged or delivered twice.
--   owner       the instance id (instance.id; "local" by default; "cli-…" for one-shot commands)
--   lease_until epoch ms; NULL once nothing is left to do for the job (ended, and delivered or
--               undeliverable), so the index below holds only the jobs that still need an owner
--   wait_since  epoch ms; set while a job waits for room (the per-user cap, a backend's cap)
--               installation-wide, so waiters are served fairly across instances
ALTER TABLE jobs ADD COLUMN owner VARCHAR(64);
ALTER TABLE jobs ADD COLUMN lease_until BIGINT;
ALTER TABLE jobs ADD COLUMN wait_since BIGINT;
CREATE INDEX jobs_by_lease ON jobs (lease_until) WHERE lease_until IS NOT NULL;

-- What earlier versions left unfinished or undelivered is free to take at once.
UPDATE jobs SET lease_until = 0
  WHERE state IN ('QUEUED', 'RUNNING')
     OR (state = 'SUCCEEDED' AND delivered_at IS NULL AND reply_address IS NOT NULL);

-- The running instances, for `fluxbot doctor` and to refuse a second instance with the same id.
CREATE TABLE instances (
  id           VARCHAR(64)  PRIMARY KEY,
  host         VARCHAR(255) NOT NULL,
  pid          BIGINT       NOT NULL,
  started_at   BIGINT       NOT NULL,
  heartbeat_at BIGINT       NOT NULL
);
