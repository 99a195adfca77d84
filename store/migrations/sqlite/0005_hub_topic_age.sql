-- When a topic's watermark was made. A watermark is made when a reader asks
-- to subscribe to the topic, before the hub has verified the reader's
-- intent; a request whose verification fails, or a subscription that ends,
-- leaves a watermark nobody reads. Those older than an hour are dropped
-- (DropIdleHubTopics), so the table holds the topics that are subscribed
-- and those asked for within the hour, not every topic ever asked for.
-- Watermarks made before this column read as 0, the oldest.
ALTER TABLE websub_hub_topics ADD COLUMN created BIGINT NOT NULL DEFAULT 0;
