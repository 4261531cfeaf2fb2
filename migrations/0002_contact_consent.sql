-- Intake reads every recipient's current consent. Looking it up in consent_events cost one
-- index probe per contact per event; the current state now lives on the contact row, kept
-- by triggers, while consent_events stays the append-only record it is derived from.
--
-- Current consent (unchanged): the newest topic-less consent event for (channel, address),
-- 'opted_in' when there is none. Several contacts (of different customers) may share one
-- address; they all follow it.

ALTER TABLE herald.contacts
  ADD COLUMN consent text NOT NULL DEFAULT 'opted_in' CHECK (consent IN ('opted_in', 'opted_out'));

UPDATE herald.contacts ct
SET consent = s.state
FROM (SELECT DISTINCT ON (channel, address) channel, address, state
      FROM herald.consent_events
      WHERE topic IS NULL
      ORDER BY channel, address, id DESC) s
WHERE s.channel = ct.channel AND s.address = ct.address AND ct.consent <> s.state;

-- A consent event and a new contact for the same address may commit concurrently: each side
-- takes the same transaction-scoped advisory lock first, so the later one sees the earlier.
CREATE FUNCTION herald.consent_lock(channel text, address text) RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(hashtextextended(channel || ':' || address, 0)) $$;

CREATE FUNCTION herald.contacts_follow_consent() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM herald.consent_lock(NEW.channel, NEW.address);
  UPDATE herald.contacts SET consent = NEW.state
  WHERE channel = NEW.channel AND address = NEW.address AND consent <> NEW.state;
  RETURN NULL;
END $$;

CREATE TRIGGER consent_events_to_contacts AFTER INSERT ON herald.consent_events
FOR EACH ROW WHEN (NEW.topic IS NULL) EXECUTE FUNCTION herald.contacts_follow_consent();

CREATE FUNCTION herald.contacts_current_consent() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM herald.consent_lock(NEW.channel, NEW.address);
  NEW.consent := coalesce((SELECT state FROM herald.consent_events
                           WHERE channel = NEW.channel AND address = NEW.address AND topic IS NULL
                           ORDER BY id DESC LIMIT 1), 'opted_in');
  RETURN NEW;
END $$;

CREATE TRIGGER contacts_current_consent BEFORE INSERT OR UPDATE OF channel, address ON herald.contacts
FOR EACH ROW EXECUTE FUNCTION herald.contacts_current_consent();

-- Message content stays in line (compressed when a row passes 2 kB) instead of being forced
-- out to TOAST: writing a message then costs one heap tuple, not a heap tuple plus TOAST rows
-- and their index entries. Existing rows keep their storage.
ALTER TABLE herald.messages RESET (toast_tuple_target);
