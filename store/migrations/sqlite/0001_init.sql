-- The first schema: feeds with their crawl state, posts, and the change
-- sequence the index follows. Portable SQL on purpose: times are integers
-- (Unix milliseconds, 0 for never), so the same schema can move to PostgreSQL.

CREATE TABLE feeds (
    id            INTEGER PRIMARY KEY,
    slug          TEXT    NOT NULL UNIQUE,
    url           TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL DEFAULT '',
    lang          TEXT    NOT NULL DEFAULT '',
    feed_url      TEXT    NOT NULL DEFAULT '',
    title         TEXT    NOT NULL DEFAULT '',
    site_url      TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL DEFAULT 'new',
    etag          TEXT    NOT NULL DEFAULT '',
    last_modified TEXT    NOT NULL DEFAULT '',
    last_success  BIGINT  NOT NULL DEFAULT 0,
    last_attempt  BIGINT  NOT NULL DEFAULT 0,
    next_attempt  BIGINT  NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT '',
    error_count   INTEGER NOT NULL DEFAULT 0,
    redirect      TEXT    NOT NULL DEFAULT '',
    created       BIGINT  NOT NULL
);

CREATE TABLE posts (
    id         TEXT    PRIMARY KEY,
    feed_id    INTEGER NOT NULL REFERENCES feeds (id),
    guid       TEXT    NOT NULL DEFAULT '',
    url        TEXT    NOT NULL DEFAULT '',
    title      TEXT    NOT NULL DEFAULT '',
    author     TEXT    NOT NULL DEFAULT '',
    published  BIGINT  NOT NULL,
    updated    BIGINT  NOT NULL DEFAULT 0,
    content    TEXT    NOT NULL DEFAULT '',
    text       TEXT    NOT NULL DEFAULT '',
    lang       TEXT    NOT NULL DEFAULT '',
    hash       TEXT    NOT NULL DEFAULT '',
    first_seen BIGINT  NOT NULL,
    seq        BIGINT  NOT NULL
);

-- Every change to a post (or to its visibility) takes the next value of the
-- sequence, so the index can follow the store with "seq > last applied".
CREATE UNIQUE INDEX posts_seq ON posts (seq);
CREATE INDEX posts_published ON posts (published DESC, id);
CREATE INDEX posts_feed_published ON posts (feed_id, published DESC);

CREATE TABLE counters (
    name  TEXT   PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('seq', 0);
