-- 0002's consent lock took one advisory lock per address, held until commit: a transaction
-- that adds or re-syncs many contacts at once (a CIS bulk load, an import) ran out of lock
-- table slots ("out of shared memory"). Addresses now share 256 lock buckets, so a
-- transaction holds at most 256 locks however many contacts it writes. Two writes for the
-- same address still take the same lock; unrelated addresses in one bucket only queue behind
-- each other for the rest of a transaction.
CREATE OR REPLACE FUNCTION herald.consent_lock(channel text, address text) RETURNS void
LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(7310004, (hashtext(channel || ':' || address) & 255)::integer)
$$;
