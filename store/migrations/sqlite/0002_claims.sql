-- Crawl claims, as on PostgreSQL: a crawl holds a feed until claimed_until
-- (Unix milliseconds). On SQLite the crawl lock already lets one crawl run
-- at a time and crawls do not claim; the column keeps one schema, and one
-- set of queries, for both backends.
ALTER TABLE feeds ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
