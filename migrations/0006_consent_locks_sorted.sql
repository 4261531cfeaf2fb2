-- Consent bucket locks are taken in bucket order. 0004's locks were taken row by row in
-- whatever order a statement wrote its contacts or consent events, so two transactions whose
-- addresses fell into the same two buckets in opposite orders could deadlock (a customer PUT
-- answered 500). A transaction now takes every bucket it needs in ascending order before it
-- writes: customer writes through consent_lock_contacts, consent events through a statement
-- trigger. The per-row locks that follow find their bucket already held.

CREATE FUNCTION herald.consent_bucket(channel text, address text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT (hashtext(channel || ':' || address) & 255)::integer $$;

CREATE OR REPLACE FUNCTION herald.consent_lock(channel text, address text) RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(7310004, herald.consent_bucket(channel, address)) $$;

-- contacts: [{"channel": "sms", "address": "+1..."}, ...]
CREATE FUNCTION herald.consent_lock_contacts(contacts jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  bucket integer;
BEGIN
  FOR bucket IN
    SELECT DISTINCT herald.consent_bucket(x.channel, x.address)
    FROM jsonb_to_recordset(coalesce(contacts, '[]'::jsonb)) AS x(channel text, address text)
    ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(7310004, bucket);
  END LOOP;
END $$;

-- Contacts follow the newest topic-less consent event per address, as before, but once per
-- statement: its buckets are locked in order first.
DROP TRIGGER consent_events_to_contacts ON herald.consent_events;

CREATE FUNCTION herald.contacts_follow_consent_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM herald.consent_lock_contacts(
    (SELECT jsonb_agg(jsonb_build_object('channel', channel, 'address', address)) FROM added WHERE topic IS NULL));
  UPDATE herald.contacts ct SET consent = s.state
  FROM (SELECT DISTINCT ON (channel, address) channel, address, state
        FROM added WHERE topic IS NULL
        ORDER BY channel, address, id DESC) s
  WHERE ct.channel = s.channel AND ct.address = s.address AND ct.consent <> s.state;
  RETURN NULL;
END $$;

CREATE TRIGGER consent_events_to_contacts AFTER INSERT ON herald.consent_events
REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION herald.contacts_follow_consent_events();

DROP FUNCTION herald.contacts_follow_consent();
