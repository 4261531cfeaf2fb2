-- Outage reports listed by outage and forwarded to the utility's OMS through a durable outbox.

-- Reports are listed and counted per outage.
CREATE INDEX outage_reports_outage ON herald.outage_reports (outage_id, id) WHERE outage_id IS NOT NULL;

-- One row per report, written in the transaction that files the report, so a report is never
-- filed without its forward. The forwarder leases due rows (SKIP LOCKED): a lease moves due_at
-- to its expiry and names its owner, so a crashed forwarder's rows come due again and are sent
-- again under the same idempotency_key (the OMS deduplicates on it). 'abandoned' after the
-- configured max age without an accepted request: kept for an admin to see.
CREATE TABLE herald.outage_report_forwards (
  report_id       bigint PRIMARY KEY REFERENCES herald.outage_reports (id),
  idempotency_key text NOT NULL UNIQUE,
  state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'abandoned')),
  due_at          timestamptz NOT NULL,
  lease_owner     text,
  attempts        integer NOT NULL DEFAULT 0,  -- HTTP requests whose outcome was recorded
  http_status     integer,                     -- of the last attempt; NULL when no answer came
  last_error      text NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL,
  last_attempt_at timestamptz,
  completed_at    timestamptz                  -- delivered or abandoned
);
CREATE INDEX outage_report_forwards_due ON herald.outage_report_forwards (due_at) WHERE state = 'pending';
CREATE INDEX outage_report_forwards_abandoned ON herald.outage_report_forwards (completed_at) WHERE state = 'abandoned';
