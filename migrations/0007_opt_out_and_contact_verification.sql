-- Opt-outs that reach queued messages (dispatch re-checks consent under the consent lock) and
-- double opt-in for contacts a customer adds on the web (verification codes).

-- 1. Dispatch re-checks consent before a send.
--
-- An opt-out holds its address's consent bucket lock exclusively (0006: the consent_events
-- trigger, or the opt-out itself before it writes) from before its record until it commits,
-- and in that transaction suppresses the address's messages that are not leased. Dispatch,
-- holding the queue rows of the messages it is about to send, takes the same buckets in shared
-- mode (dispatchers do not wait for each other) and only then reads consent, in a statement of
-- its own so that its snapshot is taken after the lock was granted. So an opt-out and a
-- dispatch check of the same address are ordered by the lock: either the opt-out committed
-- first and the check sees it, or the check came first and the opt-out waits for it; then the
-- send was decided before the opt-out, and every later chunk is checked again.
--
-- No cycle: an opt-out takes buckets before queue rows and passes leased rows by (SKIP
-- LOCKED); dispatch takes rows (SKIP LOCKED when claiming, only its own when renewing) before
-- buckets, in bucket order.
--
-- The messages of `ids` whose address is opted out (newest topic-less consent record):
-- topic opt-outs are preference changes, already applied to what intake creates.
CREATE FUNCTION herald.opted_out_messages(ids bigint[]) RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  bucket integer;
BEGIN
  FOR bucket IN
    SELECT DISTINCT herald.consent_bucket(m.channel, m.address)
    FROM herald.messages m WHERE m.id = ANY(ids)
    ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock_shared(7310004, bucket);
  END LOOP;
  -- A new statement, hence (READ COMMITTED) a snapshot taken after every lock above.
  RETURN QUERY
    SELECT m.id FROM herald.messages m
    WHERE m.id = ANY(ids)
      AND (SELECT ce.state FROM herald.consent_events ce
           WHERE ce.channel = m.channel AND ce.address = m.address AND ce.topic IS NULL
           ORDER BY ce.id DESC LIMIT 1) = 'opted_out';
END $$;

-- 2. Double opt-in. A contact added on the web is a herald.contacts row with verified = false
--    and source 'web' until one of its verifications succeeds. Each POST of the contact starts
--    a new verification (a new code; earlier pending ones are superseded). The code is stored
--    only as a hash; rows are kept as the evidence behind the consent record and to count
--    sends per hour (the rate limit across instances).
CREATE TABLE herald.contact_verifications (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id     text NOT NULL REFERENCES herald.customers ON DELETE CASCADE,
  contact_id      bigint NOT NULL REFERENCES herald.contacts ON DELETE CASCADE,
  channel         text NOT NULL CHECK (channel IN ('sms', 'email', 'voice')),
  address         text NOT NULL,
  code_hash       text NOT NULL,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'verified', 'locked', 'superseded', 'removed')),
  failed_attempts integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  verified_at     timestamptz,
  verified_by     text,            -- 'code' or 'sms_reply:<inbound id>'
  message_id      bigint           -- the message that carried the code
);
CREATE INDEX contact_verifications_contact ON herald.contact_verifications (contact_id, id DESC);
CREATE INDEX contact_verifications_customer ON herald.contact_verifications (customer_id, created_at);
CREATE INDEX contact_verifications_address ON herald.contact_verifications (channel, address, created_at);
