-- The dispatch queue moves out of the message row into a narrow table of its own.
--
-- A message that still has to go out (scheduled, queued, or sending between attempts) has
-- one row here. Leasing and re-queueing rewrite this 50-byte row instead of the
-- kilobyte-wide message, and the message row is written again only when an attempt is made
-- or the message ends. The row is deleted when the message ends (sent, failed, suppressed).
--
-- due_at is when the dispatcher next looks at the message: its send time while waiting, the
-- lease expiry while leased (lease_owner set), the retry time after a failed attempt.
-- There is no foreign key to messages: the queue is written only by intake and dispatch,
-- which keep it in step, and the per-row key check would be most of its write cost.
CREATE TABLE herald.message_queue (
  message_id  bigint PRIMARY KEY,
  due_at      timestamptz NOT NULL,
  lease_owner text
);
CREATE INDEX message_queue_due ON herald.message_queue (due_at);

INSERT INTO herald.message_queue (message_id, due_at, lease_owner)
SELECT id, coalesce(due_at, now()), lease_owner
FROM herald.messages
WHERE status IN ('scheduled', 'queued', 'sending');

DROP INDEX herald.messages_due;
ALTER TABLE herald.messages DROP COLUMN due_at, DROP COLUMN lease_owner;

-- Delivery receipts find their message through the attempt that the provider accepted, so
-- the message's own columns carry no index that its final status update would have to touch.
-- With free room left in each page (fillfactor), that update can then stay on the page (HOT)
-- and skip every index.
ALTER TABLE herald.message_attempts ADD COLUMN provider_id text;
UPDATE herald.message_attempts a
SET provider_id = m.provider_id
FROM herald.messages m
WHERE a.message_id = m.id AND a.outcome = 'sent' AND m.provider_id IS NOT NULL
  AND a.id = (SELECT max(id) FROM herald.message_attempts l WHERE l.message_id = m.id AND l.outcome = 'sent');
-- A message sent before attempts were recorded (none yet in practice) keeps its receipts
-- reachable through a synthesized attempt.
INSERT INTO herald.message_attempts (message_id, attempt, gateway, started_at, outcome, provider_id, detail)
SELECT m.id, greatest(m.attempts, 1), coalesce(m.gateway, ''), coalesce(m.sent_at, m.updated_at), 'sent',
       m.provider_id, 'recorded by migration 0003'
FROM herald.messages m
WHERE m.provider_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM herald.message_attempts a WHERE a.message_id = m.id AND a.provider_id IS NOT NULL);
CREATE INDEX message_attempts_provider_id ON herald.message_attempts (provider_id) WHERE provider_id IS NOT NULL;
DROP INDEX herald.messages_provider_id;

ALTER TABLE herald.messages SET (fillfactor = 70);
