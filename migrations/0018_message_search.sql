-- Text search of the message log fed off the write path: a narrow table of each message's
-- searchable text with its own trigram index, filled in batches by heraldd's text indexer.
--
-- 0010 indexed subject || ' ' || body on herald.messages itself and 0011 dropped it again: every
-- message write, and every status update that left its page, re-indexed about a thousand
-- trigrams and cut intake and dispatch to a third. Here nothing on the hot path touches the
-- index: intake and dispatch write herald.messages exactly as before, and a background round
-- (store/message_text.cpp) copies the text of messages above a watermark into message_text,
-- a few thousand per transaction, and advances the watermark in the same transaction. `q`
-- reads the index for ids up to the watermark and scans only the messages above it, so a
-- search is complete at every moment, however far behind the indexer is.

-- What is searched: subject and body as `q` matches them (store/messages.cpp uses the same
-- expression for the messages above the watermark). Never the HTML: its tags and links would
-- match nearly every query. Rows are written once and never updated.
CREATE TABLE IF NOT EXISTS herald.message_text (
  message_id bigint PRIMARY KEY,
  text       text NOT NULL
) WITH (fillfactor = 100);

-- One row: how far the indexer has got.
--   indexed_through: every message with an id up to this has its message_text row (or is gone).
--   settled_through: every message with an id up to this is committed or never will be. Ids are
--     drawn before their transaction commits, so a message can become visible after messages
--     with higher ids; the indexer never passes a message that may still appear below it.
--   mark_id, mark_at: the message id sequence's value read at mark_at; once no transaction that
--     began before mark_at is still open, everything up to mark_id is settled.
CREATE TABLE IF NOT EXISTS herald.message_text_state (
  only_row        boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  indexed_through bigint NOT NULL DEFAULT 0,
  settled_through bigint NOT NULL DEFAULT 0,
  mark_id         bigint NOT NULL DEFAULT 0,
  mark_at         timestamptz
);
INSERT INTO herald.message_text_state DEFAULT VALUES ON CONFLICT DO NOTHING;

-- Deleted messages take their text with them. A foreign key with ON DELETE CASCADE would do
-- the same but makes every insert into message_text lock its message row (FOR KEY SHARE): a
-- write to each message's heap page, and a multixact whenever dispatch updates that row at the
-- same moment. A statement-level trigger costs nothing to inserts and updates of messages and
-- one join per DELETE statement. It first waits for an indexer round in progress (the round
-- holds the watermark row FOR UPDATE and skips it while a delete holds it FOR SHARE), so a
-- round can never write the text of a message deleted at the same moment and leave it behind.
CREATE OR REPLACE FUNCTION herald.delete_message_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM herald.message_text_state FOR SHARE;
  DELETE FROM herald.message_text t USING deleted_messages d WHERE t.message_id = d.id;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS messages_deleted_text ON herald.messages;
CREATE TRIGGER messages_deleted_text AFTER DELETE ON herald.messages
  REFERENCING OLD TABLE AS deleted_messages
  FOR EACH STATEMENT EXECUTE FUNCTION herald.delete_message_text();

-- The trigram index. fastupdate (on by default) gathers a round's entries in the pending list
-- and merges them sorted, which is several times cheaper than inserting each row's trigrams
-- into the tree; the indexer empties the list after each round (gin_clean_pending_list), so
-- searches never scan a long pending list. Without pg_trgm (see 0010) the table is still kept
-- and `q` scans it: narrower than herald.messages, and correct.
DO $$
DECLARE
  trgm_schema text;
BEGIN
  SELECT n.nspname INTO trgm_schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_trgm';
  IF trgm_schema IS NULL THEN
    RAISE WARNING 'pg_trgm is not installed: q will scan herald.message_text; install postgresql-contrib, '
                  'run CREATE EXTENSION pg_trgm and create the index of migrations/0018_message_search.sql by hand';
    RETURN;
  END IF;
  EXECUTE format('CREATE INDEX IF NOT EXISTS message_text_trgm ON herald.message_text'
                 ' USING gin (text %I.gin_trgm_ops)', trgm_schema);
END $$;
