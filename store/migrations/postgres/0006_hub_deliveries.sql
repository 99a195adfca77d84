-- The hub's deliveries (section 7 of the WebSub Recommendation), each kept
-- from the moment it is published until the subscriber takes it or every
-- attempt has failed, so that a restart loses none: held_until is how long
-- the process making it holds it; past that, any process may claim it and
-- go on from its attempts. A subscription's deliveries go with it.
CREATE TABLE websub_hub_deliveries (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic        TEXT    NOT NULL,
    callback     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    body         BYTEA   NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    held_until   BIGINT  NOT NULL,
    created      BIGINT  NOT NULL,
    FOREIGN KEY (topic, callback) REFERENCES websub_hub_subscriptions (topic, callback) ON DELETE CASCADE
);
CREATE INDEX websub_hub_deliveries_held ON websub_hub_deliveries (held_until);
