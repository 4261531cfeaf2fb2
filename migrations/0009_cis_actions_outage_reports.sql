-- Actions asked of the CIS (payment, balance, registration lookup) and outage reports filed by
-- customers (SMS OUT, the CIS's IVR or web form).

-- One row per action, keyed by its idempotency key: the key derives from what asked (the
-- conversation or inbound message), so a retried request, a replayed inbound message or a
-- second "Y" reuses it. A row that is ok or declined is final: its stored answer is returned
-- without calling the CIS again. 'pending' while a call is in flight (a call older than the
-- client's timeout is taken over); 'unavailable' when the last call got no usable answer, so
-- the next ask calls again with the same key.
CREATE TABLE herald.cis_actions (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  action          text NOT NULL,
  request         jsonb NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'ok', 'declined', 'unavailable')),
  response        jsonb,
  http_status     integer,
  reason          text NOT NULL DEFAULT '',
  detail          text NOT NULL DEFAULT '',
  attempts        integer NOT NULL DEFAULT 0,  -- HTTP requests sent for this key
  account_id      text,
  conversation_id bigint,
  inbound_id      bigint,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  completed_at    timestamptz
);
CREATE INDEX cis_actions_created ON herald.cis_actions (created_at);
CREATE INDEX cis_actions_conversation ON herald.cis_actions (conversation_id) WHERE conversation_id IS NOT NULL;

-- report_id is the reference a customer is given ("OR-1234"). outage_id stays NULL until an
-- outage is linked (outages arrive with the outage issue). An inbound message files at most
-- one report, however often it is handled.
CREATE TABLE herald.outage_reports (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  report_id   text GENERATED ALWAYS AS ('OR-' || id::text) STORED UNIQUE,
  account_id  text NOT NULL,
  customer_id text,
  premise_id  text NOT NULL DEFAULT '',
  source      text NOT NULL CHECK (source IN ('sms', 'api', 'voice')),
  inbound_id  bigint,
  note        text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL,
  outage_id   text
);
CREATE UNIQUE INDEX outage_reports_inbound ON herald.outage_reports (inbound_id) WHERE inbound_id IS NOT NULL;
CREATE INDEX outage_reports_premise ON herald.outage_reports (premise_id, created_at DESC);
CREATE INDEX outage_reports_created ON herald.outage_reports (created_at);
