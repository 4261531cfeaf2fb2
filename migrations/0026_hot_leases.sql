-- A dispatch lease that writes no index entry.
--
-- A claim leased a queue row by moving due_at to the lease's end, and due_at is in the claim's
-- (lane, due_at) index (0017): every lease was a non-HOT update that inserted into both of the
-- queue's indexes, about a third of the claim's time in a storm. The lease is now its own
-- columns, lease_owner and leased_until, which no index covers, and due_at stays the time the
-- message came due; a claim, a renewal and a release then change no indexed column and, with
-- room on the page, write the new row version beside the old one (HOT) without touching an
-- index. A row is leased while leased_until is after now; a lapsed lease is taken over as an
-- unleased row is, in its old due order. The claim and the higher-lane probe pass over the rows
-- leased by the rounds in flight, which stay in their lane's due range.
-- No index may cover leased_until or lease_owner, not even a partial one whose predicate names
-- them: either would make every lease a non-HOT update again.
ALTER TABLE herald.message_queue ADD COLUMN leased_until timestamptz;

-- Leases taken before this migration: due_at was their end. They lapse when they did.
UPDATE herald.message_queue SET leased_until = due_at WHERE lease_owner IS NOT NULL;

ALTER TABLE herald.message_queue
  ADD CONSTRAINT message_queue_lease CHECK ((lease_owner IS NULL) = (leased_until IS NULL));

-- Room for every row of a page to be leased at once. A claim takes a lane's due rows in due
-- order, and a storm's rows, all due at the same time, in the order they were written: the
-- rows of a page are leased by the same statement, whose old versions cannot be pruned while
-- it runs, so each new version needs free room of its own on the page. An unleased row takes
-- 52 bytes of a page, its leased version about 85 to 130 (the owner is the instance's host
-- name, process id and a token). At 30 a page holds about 45 rows and room for all of their
-- leased versions with an owner name of up to about 70 characters. The queue is short-lived
-- (a row is deleted when its message ends), so its extra pages are reused as it drains.
ALTER TABLE herald.message_queue SET (fillfactor = 30);
