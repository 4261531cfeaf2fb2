-- Bulk customer loads (POST /v1/customers/batch, heraldd import-customers) merge thousands of
-- customers in one statement per table. What the per-customer path does per row in triggers
-- would be most of their cost, so a merge does it in its own statements instead.

-- 1. Consent buckets in ascending order, from a list (0006 takes them from a JSON list of
--    contacts; a merge has its contacts in a staging table and passes their buckets).
CREATE FUNCTION herald.consent_lock_buckets(buckets integer[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  bucket integer;
BEGIN
  FOR bucket IN SELECT DISTINCT b FROM unnest(buckets) AS b ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(7310004, bucket);
  END LOOP;
END $$;

-- 2. A merge that holds every consent bucket of its contacts (1.) may set the transaction-local
--    herald.consent_given = 'on' around the statements that write contacts and their initial
--    consent; the two consent triggers then stand aside:
--    - a new contact row reads its address's current consent (0002, per row: a PL/pgSQL call, a
--      lock call and an index probe per contact); the merge's INSERT ... SELECT reads the same
--      consent itself;
--    - a consent record updates the contacts of its address (0006, per statement); the merge only
--      records an opt-in for addresses with no consent history, whose contacts are opted in
--      already, so there is nothing to update.
--    Every other writer keeps both triggers.
DROP TRIGGER contacts_current_consent ON herald.contacts;
CREATE TRIGGER contacts_current_consent BEFORE INSERT OR UPDATE OF channel, address ON herald.contacts
FOR EACH ROW WHEN (current_setting('herald.consent_given', true) IS DISTINCT FROM 'on')
EXECUTE FUNCTION herald.contacts_current_consent();

DROP TRIGGER consent_events_to_contacts ON herald.consent_events;
CREATE TRIGGER consent_events_to_contacts AFTER INSERT ON herald.consent_events
REFERENCING NEW TABLE AS added
FOR EACH STATEMENT WHEN (current_setting('herald.consent_given', true) IS DISTINCT FROM 'on')
EXECUTE FUNCTION herald.contacts_follow_consent_events();
