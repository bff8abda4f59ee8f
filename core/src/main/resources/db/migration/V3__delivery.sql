-- A finished job whose answer could not be delivered (a chat platform's error or rate limit) is
-- delivered again, also after a restart: nothing the user paid for is lost.
ALTER TABLE jobs ADD COLUMN delivered_at BIGINT;
ALTER TABLE jobs ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET delivered_at = finished_at WHERE state = 'SUCCEEDED';
