-- The seed cache deletes an image file only when nothing uses it: these make that check an index lookup.
CREATE INDEX seed_cache_by_image ON seed_cache (image_hash);
CREATE INDEX jobs_by_image ON jobs (image_hash);
