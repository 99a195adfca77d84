-- Crawl claims, as on PostgreSQL: a crawl holds a feed until claimed_until
-- (Unix milliseconds). On SQLite the crawl lock already lets one crawl run
-- at a time; the claims keep the crawl's way the same on both backends.
ALTER TABLE feeds ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
