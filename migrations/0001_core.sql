-- Core schema: customers, contacts, preferences, consent, events, the message outbox.
CREATE SCHEMA IF NOT EXISTS herald;

CREATE TABLE herald.settings (
  key   text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE herald.customers (
  customer_id text PRIMARY KEY,
  name        text NOT NULL,
  language    text NOT NULL DEFAULT 'en',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE herald.accounts (
  account_id      text PRIMARY KEY,
  customer_id     text NOT NULL REFERENCES herald.customers ON DELETE CASCADE,
  premise_id      text NOT NULL DEFAULT '',
  service_address jsonb NOT NULL DEFAULT '{}',
  timezone        text NOT NULL,
  zip             text NOT NULL DEFAULT '',
  feeder          text NOT NULL DEFAULT '',
  segments        text[] NOT NULL DEFAULT '{}',
  language        text NOT NULL DEFAULT '',
  active          boolean NOT NULL DEFAULT true
);
CREATE INDEX accounts_customer ON herald.accounts (customer_id);
CREATE INDEX accounts_premise ON herald.accounts (premise_id);

-- A contact the CIS dropped stays with active = false so its history (messages, consent) holds.
CREATE TABLE herald.contacts (
  contact_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id text NOT NULL REFERENCES herald.customers ON DELETE CASCADE,
  channel     text NOT NULL CHECK (channel IN ('sms', 'email', 'voice')),
  address     text NOT NULL,
  verified    boolean NOT NULL DEFAULT false,
  source      text NOT NULL DEFAULT 'cis',
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (customer_id, channel, address)
);
CREATE INDEX contacts_address ON herald.contacts (channel, address);

CREATE TABLE herald.preferences (
  customer_id         text PRIMARY KEY REFERENCES herald.customers ON DELETE CASCADE,
  topics              jsonb NOT NULL,          -- {"billing": ["sms", "email"], ...}
  quiet_hours_enabled boolean NOT NULL DEFAULT true,
  quiet_start         smallint NOT NULL DEFAULT 1260 CHECK (quiet_start BETWEEN 0 AND 1439),
  quiet_end           smallint NOT NULL DEFAULT 480 CHECK (quiet_end BETWEEN 0 AND 1439),
  language            text NOT NULL DEFAULT 'en',
  updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Who changed preferences, when, from what to what.
CREATE TABLE herald.preference_changes (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id text NOT NULL,
  actor       text NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  old_value   jsonb,
  new_value   jsonb NOT NULL
);
CREATE INDEX preference_changes_customer ON herald.preference_changes (customer_id, id);

-- Append-only. Current consent for (channel, address[, topic]) is the newest row.
-- topic NULL means every topic (e.g. SMS STOP); a topic row is an opt-out of that topic only.
CREATE TABLE herald.consent_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel     text NOT NULL CHECK (channel IN ('sms', 'email', 'voice')),
  address     text NOT NULL,
  topic       text CHECK (topic IN ('billing', 'outage', 'other')),
  state       text NOT NULL CHECK (state IN ('opted_in', 'opted_out')),
  source      text NOT NULL CHECK (source IN ('web', 'sms', 'provider', 'admin', 'cis', 'email')),
  evidence    text NOT NULL DEFAULT '',
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_events_address ON herald.consent_events (channel, address, id DESC);

-- What the CIS sent. body_hash is NULL for rows a CIS inserted directly.
CREATE TABLE herald.events (
  seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id     text NOT NULL UNIQUE,
  type         text NOT NULL,
  account_id   text,
  occurred_at  timestamptz NOT NULL DEFAULT now(),
  data         jsonb NOT NULL DEFAULT '{}',
  body_hash    text,
  status       text NOT NULL DEFAULT 'accepted' CHECK (status IN ('accepted', 'processed', 'rejected')),
  error        jsonb,
  source       text NOT NULL DEFAULT 'db',
  received_at  timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);
CREATE INDEX events_pending ON herald.events (seq) WHERE status = 'accepted';

-- NOTIFY carries no data: it only wakes the intake loop, which also polls.
CREATE FUNCTION herald.notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('herald_events', '');
  RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON herald.events
  FOR EACH STATEMENT EXECUTE FUNCTION herald.notify_events();

-- The outbox: one row per (recipient contact, message). due_at is when the dispatcher next
-- looks at the row: the send time while scheduled/queued, the lease expiry while sending.
CREATE TABLE herald.messages (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_seq          bigint REFERENCES herald.events (seq),
  event_id           text NOT NULL,
  customer_id        text NOT NULL,
  account_id         text NOT NULL,
  contact_id         bigint,
  channel            text NOT NULL CHECK (channel IN ('sms', 'email', 'voice')),
  address            text NOT NULL DEFAULT '',
  type               text NOT NULL,
  topic              text NOT NULL,
  language           text NOT NULL DEFAULT '',
  priority           smallint NOT NULL DEFAULT 0,
  urgent             boolean NOT NULL DEFAULT false,
  subject            text NOT NULL DEFAULT '',
  body               text NOT NULL DEFAULT '',
  html               text NOT NULL DEFAULT '',
  unsubscribe_url    text NOT NULL DEFAULT '',
  segments           integer NOT NULL DEFAULT 0,
  encoding           text NOT NULL DEFAULT '',
  status             text NOT NULL CHECK (status IN ('scheduled', 'queued', 'sending', 'sent', 'delivered',
                                                      'undelivered', 'failed', 'suppressed')),
  suppression_reason text,
  decision           jsonb NOT NULL DEFAULT '{}',
  not_before         timestamptz,
  expires_at         timestamptz,
  due_at             timestamptz,
  attempts           integer NOT NULL DEFAULT 0,
  gateway            text,
  provider_id        text,
  lease_owner        text,
  last_error         text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  sent_at            timestamptz,
  delivered_at       timestamptz
);
-- Content (bodies, HTML, the decision) moves out of line, compressed: the dispatcher's status
-- updates then rewrite a narrow row instead of copying kilobytes of text each time.
ALTER TABLE herald.messages SET (toast_tuple_target = 128);
ALTER TABLE herald.messages ALTER COLUMN body SET COMPRESSION lz4;
ALTER TABLE herald.messages ALTER COLUMN html SET COMPRESSION lz4;
ALTER TABLE herald.messages ALTER COLUMN decision SET COMPRESSION lz4;
CREATE INDEX messages_due ON herald.messages (due_at) WHERE status IN ('scheduled', 'queued', 'sending');
CREATE INDEX messages_customer ON herald.messages (customer_id, id DESC);
CREATE INDEX messages_account ON herald.messages (account_id, id DESC);
CREATE INDEX messages_address ON herald.messages (address, id DESC);
CREATE INDEX messages_event ON herald.messages (event_seq);
-- Rows arrive in created_at order: a BRIN index serves time ranges at a fraction of a btree's cost.
CREATE INDEX messages_created ON herald.messages USING brin (created_at);
CREATE INDEX messages_provider_id ON herald.messages (provider_id) WHERE provider_id IS NOT NULL;

CREATE TABLE herald.message_attempts (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id  bigint NOT NULL REFERENCES herald.messages ON DELETE CASCADE,
  attempt     integer NOT NULL,
  gateway     text NOT NULL,
  started_at  timestamptz NOT NULL,
  duration_ms integer NOT NULL DEFAULT 0,
  outcome     text NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed', 'failover')),
  http_status integer,
  error_code  text,
  detail      text NOT NULL DEFAULT ''
);
CREATE INDEX message_attempts_message ON herald.message_attempts (message_id, id);

CREATE TABLE herald.delivery_receipts (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id  bigint REFERENCES herald.messages ON DELETE CASCADE,
  gateway     text NOT NULL,
  provider_id text NOT NULL,
  status      text NOT NULL,
  error_code  text,
  raw         jsonb NOT NULL DEFAULT '{}',
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_receipts_message ON herald.delivery_receipts (message_id, id);

CREATE TABLE herald.api_keys (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL,
  role       text NOT NULL CHECK (role IN ('cis', 'admin')),
  key_hash   text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

CREATE TABLE herald.audit_log (
  id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  actor  text NOT NULL,
  action text NOT NULL,
  target text NOT NULL DEFAULT '',
  detail jsonb NOT NULL DEFAULT '{}',
  at     timestamptz NOT NULL DEFAULT now()
);
