-- Indexes that keep the admin's history searches fast on a big message log.
--
-- Every index here is on a column that is written once, with the row: none is on status or
-- any other column the dispatcher updates, so a message's status updates stay HOT (0003, 0005)
-- and never touch these indexes (a non-HOT update would re-insert every trigram of the body).
--
-- 1. Message type: some types are rare (a leak, a disconnection), so walking the primary key
--    backwards for them would read most of the history. (type, id DESC) serves "newest of
--    this type" and its keyset pages directly.
CREATE INDEX IF NOT EXISTS messages_type ON herald.messages (type, id DESC);

-- 2. Date ranges. The log is read newest first by id; a range is turned into id bounds
--    (store/messages.cpp) with two probes of this btree, so an old range starts at its own end
--    instead of walking every newer row. It also serves the volume report's ranges, which the
--    BRIN index served before.
CREATE INDEX IF NOT EXISTS messages_created_at ON herald.messages (created_at);
DROP INDEX IF EXISTS herald.messages_created;

-- 3. Status. Most messages end sent or delivered, so walking the primary key finds a page of
--    those at once; the statuses an admin hunts for are rare (failed, undelivered, suppressed)
--    and an index on messages.status would cost every status update its HOT path. These
--    statuses are indexed in a narrow table of their own instead, kept by triggers that fire
--    only for them (the WHEN clauses cost the other rows nothing). It carries the columns that
--    are often asked together with a status, so a page is found without opening messages rows.
--    Statuses still to go out (scheduled, queued, sending) are read through message_queue.
CREATE TABLE IF NOT EXISTS herald.messages_by_status (
  status     text NOT NULL,
  message_id bigint NOT NULL,
  channel    text NOT NULL,
  type       text NOT NULL,
  topic      text NOT NULL,
  PRIMARY KEY (status, message_id)
);

CREATE OR REPLACE FUNCTION herald.index_message_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status IN ('failed', 'undelivered', 'suppressed') THEN
    DELETE FROM herald.messages_by_status WHERE status = OLD.status AND message_id = OLD.id;
  END IF;
  IF NEW.status IN ('failed', 'undelivered', 'suppressed') THEN
    INSERT INTO herald.messages_by_status (status, message_id, channel, type, topic)
    VALUES (NEW.status, NEW.id, NEW.channel, NEW.type, NEW.topic)
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS messages_status_inserted ON herald.messages;
CREATE TRIGGER messages_status_inserted AFTER INSERT ON herald.messages
  FOR EACH ROW WHEN (NEW.status IN ('failed', 'undelivered', 'suppressed'))
  EXECUTE FUNCTION herald.index_message_status();
DROP TRIGGER IF EXISTS messages_status_changed ON herald.messages;
CREATE TRIGGER messages_status_changed AFTER UPDATE OF status ON herald.messages
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                     AND (OLD.status IN ('failed', 'undelivered', 'suppressed')
                          OR NEW.status IN ('failed', 'undelivered', 'suppressed')))
  EXECUTE FUNCTION herald.index_message_status();

INSERT INTO herald.messages_by_status (status, message_id, channel, type, topic)
SELECT status, id, channel, type, topic FROM herald.messages
WHERE status IN ('failed', 'undelivered', 'suppressed')
ON CONFLICT DO NOTHING;

-- 4. Gateway reports read attempts by start time; attempts are appended in time order, so a
--    BRIN index is enough and costs the dispatcher almost nothing to maintain.
CREATE INDEX IF NOT EXISTS message_attempts_started ON herald.message_attempts USING brin (started_at);

-- 5. Text: q (messages: subject and body) and customer names are searched with ILIKE '%…%',
--    which only a trigram index serves. pg_trgm ships with PostgreSQL (postgresql-15 on Debian)
--    and is a trusted extension: the database owner may create it. Where it cannot be created
--    the searches still answer, by scanning, and a warning says what to run.
DO $$
DECLARE
  trgm_schema text;
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA herald;
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'pg_trgm is not available (%): text search of messages and customer names will scan; '
                  'install postgresql-contrib, run CREATE EXTENSION pg_trgm and create the trigram '
                  'indexes of migrations/0010_history_indexes.sql by hand', SQLERRM;
    RETURN;
  END;
  -- The extension may have been installed earlier into another schema.
  SELECT n.nspname INTO trgm_schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_trgm';
  -- One index over subject and body together: the store's q predicate uses this same expression.
  EXECUTE format('CREATE INDEX IF NOT EXISTS messages_text ON herald.messages'
                 ' USING gin ((subject || '' '' || body) %I.gin_trgm_ops)', trgm_schema);
  EXECUTE format('CREATE INDEX IF NOT EXISTS customers_name ON herald.customers'
                 ' USING gin (name %I.gin_trgm_ops)', trgm_schema);
END $$;
