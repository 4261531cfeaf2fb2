-- Dispatch's writes per message: the sent update stays on its page, and an attempt row no
-- longer locks its message.
--
-- 1. Room for every row of a page to be updated at once. A claim takes due messages in id
--    order, so the rows of one heap page are sent and recorded by the same statement, in the
--    same transaction: the versions it makes dead cannot be pruned while it runs, and each new
--    version needs free room of its own on the page. With 0003's fillfactor 70 only the first
--    three or four of a page's outage texts found room; the rest (56 % in a 40,000-message
--    storm) were non-HOT updates, each inserting into all eight indexes of herald.messages,
--    most of the record statement's time. At 45 a page is filled to a bit less than half, so
--    the sent version of each of its rows fits beside the old one; the delivery receipt's later
--    update finds the old versions pruned. The table takes about half as many pages again;
--    pages written before this migration keep their layout.
ALTER TABLE herald.messages SET (fillfactor = 45);

-- 2. No foreign key from attempts to messages. Its check ran a FOR KEY SHARE lock of the
--    message row for every attempt row (a query per row and a lock written into the message's
--    heap tuple, which dispatch had just updated in the same statement). Dispatch inserts an
--    attempt only for a message its statement has just updated (so the message exists and its
--    row is locked until commit); deleted messages take their attempts with them through a
--    statement-level trigger, as their text does (0018).
ALTER TABLE herald.message_attempts DROP CONSTRAINT IF EXISTS message_attempts_message_id_fkey;

CREATE OR REPLACE FUNCTION herald.delete_message_attempts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM herald.message_attempts a USING deleted_messages d WHERE a.message_id = d.id;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS messages_deleted_attempts ON herald.messages;
CREATE TRIGGER messages_deleted_attempts AFTER DELETE ON herald.messages
  REFERENCING OLD TABLE AS deleted_messages
  FOR EACH STATEMENT EXECUTE FUNCTION herald.delete_message_attempts();

-- 3. The claim's consent check without reading the messages again. opted_out_messages (0007)
--    looks each message up by id to learn its address; the claim has just read them, so it
--    hands the addresses over. Same order as 0007: buckets shared, in bucket order, then
--    consent read in a statement of its own (a snapshot taken after the locks).
CREATE OR REPLACE FUNCTION herald.opted_out_addresses(ids bigint[], channels text[], addresses text[])
RETURNS SETOF bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(7310004, b.bucket)
  FROM (SELECT DISTINCT herald.consent_bucket(c, a) AS bucket FROM unnest(channels, addresses) AS x(c, a)
        ORDER BY 1) b;
  RETURN QUERY
    SELECT x.id FROM unnest(ids, channels, addresses) AS x(id, channel, address)
    WHERE (SELECT ce.state FROM herald.consent_events ce
           WHERE ce.channel = x.channel AND ce.address = x.address AND ce.topic IS NULL
           ORDER BY ce.id DESC LIMIT 1) = 'opted_out';
END $$;
