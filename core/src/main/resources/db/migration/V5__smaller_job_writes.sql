-- Only jobs with an image need to be found by it (SeedIndex checks whether an image is still used
-- before it deletes the file). Before this, every job added a NULL entry when it was created and
-- moved it when it finished: two more index pages written by every job for no reader. SQLite and
-- PostgreSQL both use a partial index for "image_hash = ?", which implies "IS NOT NULL".
DROP INDEX jobs_by_image;
CREATE INDEX jobs_by_image ON jobs (image_hash) WHERE image_hash IS NOT NULL;
