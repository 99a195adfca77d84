-- A post's identity within its feed is its GUID: when a post's link changes
-- (its title and slug edited), the post keeps its ID and the new link's ID
-- becomes an alias of it. merged_into is non-empty on such an alias: the ID
-- names that post now, and the row itself is invisible everywhere.
ALTER TABLE posts ADD COLUMN merged_into TEXT NOT NULL DEFAULT '';

-- Each feed's GUIDs and the posts they name. A blog listed twice (RSS
-- and Atom) may give one post two GUIDs, one per feed, while the post row
-- keeps its first feed's: here each feed finds its own.
CREATE TABLE post_guids (
    feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    guid    TEXT NOT NULL,
    post_id TEXT NOT NULL,
    PRIMARY KEY (feed_id, guid)
);

-- Items beyond the newest 1,000 of the feed's last full fetch, which were
-- not stored.
ALTER TABLE feeds ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0;

-- Posts stored twice before: one feed, one GUID, two IDs (the old link and
-- the new). The most recently written row (the highest seq) has the newer
-- content and stays; the others become its aliases. (The index makes the
-- merge one pass, not a scan per post.)
CREATE INDEX posts_feed_guid ON posts (feed_id, guid);
UPDATE posts SET merged_into = (
    SELECT w.id FROM posts w
    WHERE w.feed_id = posts.feed_id AND w.guid = posts.guid
    ORDER BY w.seq DESC LIMIT 1)
WHERE guid <> '' AND EXISTS (
    SELECT 1 FROM posts n
    WHERE n.feed_id = posts.feed_id AND n.guid = posts.guid AND n.seq > posts.seq);

-- The aliases take new change sequence numbers, so the index drops them.
CREATE TEMP TABLE merged AS
    SELECT id, ROW_NUMBER() OVER (ORDER BY seq) AS n FROM posts WHERE merged_into <> '';
UPDATE posts SET seq = (SELECT value FROM counters WHERE name = 'seq') +
    (SELECT n FROM merged WHERE merged.id = posts.id)
WHERE id IN (SELECT id FROM merged);
UPDATE counters SET value = value + (SELECT COUNT(*) FROM merged) WHERE name = 'seq';
DROP TABLE merged;
DROP INDEX posts_feed_guid;

INSERT INTO post_guids (feed_id, guid, post_id)
    SELECT feed_id, guid, id FROM posts WHERE guid <> '' AND merged_into = '';

-- Each blog's icon, shown beside its name and served by vplanet itself.
-- favicon_checked is when the crawler last looked for it (Unix ms).
ALTER TABLE feeds ADD COLUMN favicon_checked BIGINT NOT NULL DEFAULT 0;
CREATE TABLE favicons (
    feed_id      INTEGER PRIMARY KEY REFERENCES feeds (id) ON DELETE CASCADE,
    content_type TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    updated      BIGINT  NOT NULL
);
