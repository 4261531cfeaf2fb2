-- Messages about an outage by channel and status, kept as they change instead of counted per
-- request: GET /v1/outages/{id} grouped every message of the outage (about 220 ms for 100,000 of
-- them, seconds for a storm's millions, each time the admin console looked).
--
-- Statement triggers with transition tables append one row per (outage, channel, status) that a
-- statement changed, with the change (+n, -n). Nothing is updated in place: a fan-out chunk, the
-- dispatcher's rounds and receipts for the same outage never wait on each other's counter rows.
-- The counts are the sums; heraldd's outage loop folds an outage's rows into one per key now
-- and then (store::compact_outage_message_counts), so a read sums a few rows.
CREATE TABLE IF NOT EXISTS herald.outage_message_counts (
  outage_id text NOT NULL,
  channel   text NOT NULL,
  status    text NOT NULL,
  messages  bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS outage_message_counts_outage ON herald.outage_message_counts (outage_id);

CREATE OR REPLACE FUNCTION herald.count_outage_messages_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO herald.outage_message_counts (outage_id, channel, status, messages)
  SELECT outage_id, channel, status, count(*) FROM new_rows WHERE outage_id IS NOT NULL GROUP BY 1, 2, 3;
  RETURN NULL;
END $$;

-- Two small aggregates, one per side: grouping the two sides together (UNION ALL, then GROUP BY
-- with HAVING to drop what nets to zero) cost a dispatch round of outage messages a fifth more;
-- this way about 2 %. An update that changes no status leaves a +n and a -n for the folding.
CREATE OR REPLACE FUNCTION herald.count_outage_messages_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO herald.outage_message_counts (outage_id, channel, status, messages)
  SELECT outage_id, channel, status, count(*) FROM new_rows WHERE outage_id IS NOT NULL GROUP BY 1, 2, 3
  UNION ALL
  SELECT outage_id, channel, status, -count(*) FROM old_rows WHERE outage_id IS NOT NULL GROUP BY 1, 2, 3;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION herald.count_outage_messages_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO herald.outage_message_counts (outage_id, channel, status, messages)
  SELECT outage_id, channel, status, -count(*) FROM old_rows WHERE outage_id IS NOT NULL GROUP BY 1, 2, 3;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS messages_outage_counts_inserted ON herald.messages;
CREATE TRIGGER messages_outage_counts_inserted AFTER INSERT ON herald.messages
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION herald.count_outage_messages_inserted();
DROP TRIGGER IF EXISTS messages_outage_counts_updated ON herald.messages;
CREATE TRIGGER messages_outage_counts_updated AFTER UPDATE ON herald.messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION herald.count_outage_messages_updated();
DROP TRIGGER IF EXISTS messages_outage_counts_deleted ON herald.messages;
CREATE TRIGGER messages_outage_counts_deleted AFTER DELETE ON herald.messages
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION herald.count_outage_messages_deleted();

-- The messages already there (the migration runs in one transaction with the triggers).
DELETE FROM herald.outage_message_counts;
INSERT INTO herald.outage_message_counts (outage_id, channel, status, messages)
SELECT outage_id, channel, status, count(*) FROM herald.messages WHERE outage_id IS NOT NULL GROUP BY 1, 2, 3;
