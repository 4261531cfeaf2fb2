-- A notice written by several transactions at once. Its affected accounts are cut into parts,
-- disjoint ranges of outage_accounts' key (account_id), when the notice is created; each part
-- has its own cursor and is claimed FOR UPDATE SKIP LOCKED by whichever outage thread is free,
-- so two threads (or two instances) write two chunks of one notice at the same time. The notice
-- is done when every part is. A newer notice of the outage closes the older one's parts first,
-- waiting for a chunk in progress on any of them, so the newer notice's chunks see every message
-- the older one wrote (and replace it in place while it is queued) and never race it.
CREATE TABLE herald.outage_notice_parts (
  notice_id    bigint NOT NULL,
  part         integer NOT NULL,
  cursor       text NOT NULL,       -- the last account written; the part starts after its lower bound
  last_account text NOT NULL,       -- the part's last account, inclusive; '' for the last part (no bound)
  done_at      timestamptz,
  PRIMARY KEY (notice_id, part)
);
CREATE INDEX outage_notice_parts_pending ON herald.outage_notice_parts (notice_id, part) WHERE done_at IS NULL;

-- A notice still being written when Herald is upgraded goes on as one part from its cursor.
INSERT INTO herald.outage_notice_parts (notice_id, part, cursor, last_account)
SELECT id, 1, cursor, '' FROM herald.outage_notices WHERE done_at IS NULL;
ALTER TABLE herald.outage_notices DROP COLUMN cursor;
