-- The text search table carries the message's written-once filter columns (channel, type, topic),
-- so `q` combined with them is answered inside herald.message_text, newest first, before a single
-- message row is read; and its text is stored lower-cased.
--
-- With only the text in message_text (0018), `q` and a topic or type had to take every match of
-- the text, sort them by id and join them to herald.messages one by one until a page had passed
-- the filter: a common word (20,000 matches) cost a recheck of every matched text row and 430 ms
-- on the history benchmark. These columns never change after the message is written, so the
-- indexer copies them with the text and the rows stay written once (status, which dispatch
-- updates, stays on herald.messages and messages_by_status, 0010).
--
-- Lower case: `x ILIKE p` is `lower(x) LIKE lower(p)` (Postgres lowers both, with the same
-- collation, and matches them as LIKE does), so `q` now matches `text LIKE lower(pattern)`: the
-- same rows, without lowering every candidate row again. Lowering was most of the cost of
-- checking a row (20,000 rows: about 130 ms with ILIKE, 30 ms with LIKE on this text), and a
-- common word's trigram matches are all checked. The trigram index serves LIKE as it served
-- ILIKE (pg_trgm folds case in its trigrams either way).
--
-- The table is rebuilt rather than updated in place: an UPDATE of every row would write each
-- row twice and re-insert all its trigrams into the index, where a rebuild writes the rows once,
-- in message id order (the order the newest-first walks read them), and builds the indexes
-- sorted. Every text row has its message (a delete takes its text with it, see 0018).
CREATE TABLE herald.message_text_next (
  message_id bigint PRIMARY KEY,
  channel    text NOT NULL,
  type       text NOT NULL,
  topic      text NOT NULL,
  text       text NOT NULL
) WITH (fillfactor = 100);

INSERT INTO herald.message_text_next (message_id, channel, type, topic, text)
SELECT t.message_id, m.channel, m.type, m.topic, lower(t.text)
FROM herald.message_text t JOIN herald.messages m ON m.id = t.message_id
ORDER BY t.message_id;

DROP TABLE herald.message_text;
ALTER TABLE herald.message_text_next RENAME TO message_text;
ALTER INDEX herald.message_text_next_pkey RENAME TO message_text_pkey;

-- A filter with a search: the newest rows of one channel, type or topic, walked backwards with
-- the text checked on each, when the word is common; ANDed with the trigram index's matches when
-- the word is rare. (type, topic and channel have few values each: one index per column serves
-- every combination, the planner taking the rarest and checking the others on the row.)
CREATE INDEX message_text_type ON herald.message_text (type, message_id);
CREATE INDEX message_text_topic ON herald.message_text (topic, message_id);
CREATE INDEX message_text_channel ON herald.message_text (channel, message_id);

-- A search with a rare status chooses between walking the status's rows and taking the text's
-- matches by the planner's estimate of the matches (store/messages.cpp). The estimate comes from
-- the column's histogram; at the default 100 entries a word in 0.2 % of the messages and one in
-- 2 % both show as one entry, 1 %. A thousand tell them apart (ANALYZE samples more rows for
-- it, about three seconds for a million rows).
ALTER TABLE herald.message_text ALTER COLUMN text SET STATISTICS 1000;

-- The trigram index of 0018, under the same name (the indexer merges its pending list by name).
DO $$
DECLARE
  trgm_schema text;
BEGIN
  SELECT n.nspname INTO trgm_schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_trgm';
  IF trgm_schema IS NULL THEN
    RAISE WARNING 'pg_trgm is not installed: q will scan herald.message_text; install postgresql-contrib, '
                  'run CREATE EXTENSION pg_trgm and create the index of migrations/0020_message_text_columns.sql by hand';
    RETURN;
  END IF;
  EXECUTE format('CREATE INDEX message_text_trgm ON herald.message_text USING gin (text %I.gin_trgm_ops)',
                 trgm_schema);
END $$;

ANALYZE herald.message_text;
