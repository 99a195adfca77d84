-- WebSub. Times are Unix milliseconds, 0 for never. The same text runs on
-- SQLite and PostgreSQL.

-- vplanet as a subscriber: one subscription per listed feed, shared by every
-- replica so that whichever one the hub reaches can answer it.
CREATE TABLE websub_subscriptions (
    id       TEXT   PRIMARY KEY,          -- the unguessable token in the callback URL
    feed_url TEXT   NOT NULL UNIQUE,      -- feeds.url, as listed; handed to ingest
    topic    TEXT   NOT NULL,             -- the feed's rel="self"
    hub      TEXT   NOT NULL,
    secret   TEXT   NOT NULL,             -- hub.secret, 64 hex characters
    state    TEXT   NOT NULL,             -- pending | active | failed | unsubscribing
    reason   TEXT   NOT NULL DEFAULT '',
    asked    BIGINT NOT NULL DEFAULT 0,
    expires  BIGINT NOT NULL DEFAULT 0,
    pushed   BIGINT NOT NULL DEFAULT 0,
    updated  BIGINT NOT NULL
);

-- vplanet as a hub: its readers' subscriptions, keyed by (topic, callback)
-- as section 1 of the WebSub Recommendation defines a subscription.
CREATE TABLE websub_hub_subscriptions (
    topic    TEXT   NOT NULL,
    callback TEXT   NOT NULL,
    secret   TEXT   NOT NULL DEFAULT '',
    expires  BIGINT NOT NULL,
    created  BIGINT NOT NULL,
    PRIMARY KEY (topic, callback)
);

-- The hub's watermark per topic: the store sequence up to which the topic's
-- posts have been distributed. Replicas race for it with a compare-and-set,
-- so a post is pushed once however many replicas index it.
CREATE TABLE websub_hub_topics (
    topic         TEXT   PRIMARY KEY,
    published_seq BIGINT NOT NULL
);
