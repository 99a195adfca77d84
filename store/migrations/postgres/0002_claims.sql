-- Crawl claims: a crawl holds a feed until claimed_until (Unix
-- milliseconds), so that several crawl processes share the due feeds and
-- each is fetched once; past it, a crawl that died holding the feed has let
-- it go.
ALTER TABLE feeds ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX feeds_due ON feeds (next_attempt);
