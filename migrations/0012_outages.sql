-- Outages: what the utility's OMS or CIS says is out, the area it covers, its history, and what
-- Herald has told the customers there (the notices fanned out to their messages).

-- One row per outage, keyed by the utility's id. seq orders the list (keyset pages, newest
-- first). due_at is when the engine next looks at the outage (a change to tell, a collapse
-- window ending, a planned notice or reminder coming due); NULL when nothing is pending.
-- notified_* are the state the customers last heard, against which the next change is judged.
CREATE TABLE herald.outages (
  outage_id             text PRIMARY KEY,
  seq                   bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  status                text NOT NULL CHECK (status IN ('planned', 'reported', 'confirmed', 'crew_assigned',
                                                        'etr_updated', 'restored', 'cancelled')),
  kind                  text NOT NULL CHECK (kind IN ('planned', 'unplanned')),
  cause                 text NOT NULL DEFAULT '',
  etr                   timestamptz,
  planned_start         timestamptz,
  planned_end           timestamptz,
  created_at            timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL,
  ended_at              timestamptz,             -- restored or cancelled
  area_version          integer NOT NULL DEFAULT 1,
  -- The affected accounts (outage_accounts) were built from this area_version; behind it, the
  -- engine rebuilds them before the next notice.
  accounts_version      integer NOT NULL DEFAULT 0,
  affected_accounts     integer NOT NULL DEFAULT 0,
  affected_customers    integer NOT NULL DEFAULT 0,
  notified_status       text,
  notified_etr          timestamptz,
  notified_cause        text,
  last_notice_at        timestamptz,
  planned_notice_sent   boolean NOT NULL DEFAULT false,
  planned_reminder_sent boolean NOT NULL DEFAULT false,
  due_at                timestamptz
);
CREATE INDEX outages_due ON herald.outages (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX outages_active ON herald.outages (seq) WHERE status NOT IN ('restored', 'cancelled');
CREATE INDEX outages_created ON herald.outages (created_at);

-- The area, as the utility gave it: sets of any size (a PUT may carry 100,000 premise ids),
-- loaded set-based from array parameters. No foreign keys: only the outage store writes them,
-- replacing an outage's set in the transaction that changes it, and the per-row check would
-- be most of the cost of a large set.
CREATE TABLE herald.outage_premises (
  outage_id  text NOT NULL,
  premise_id text NOT NULL,
  PRIMARY KEY (outage_id, premise_id)
);
CREATE INDEX outage_premises_premise ON herald.outage_premises (premise_id);
CREATE TABLE herald.outage_feeders (
  outage_id text NOT NULL,
  feeder    text NOT NULL,
  PRIMARY KEY (outage_id, feeder)
);
CREATE INDEX outage_feeders_feeder ON herald.outage_feeders (feeder);
CREATE TABLE herald.outage_zips (
  outage_id text NOT NULL,
  zip       text NOT NULL,
  PRIMARY KEY (outage_id, zip)
);
CREATE INDEX outage_zips_zip ON herald.outage_zips (zip);

-- Accounts are found by feeder and ZIP when an outage names those.
CREATE INDEX IF NOT EXISTS accounts_feeder ON herald.accounts (feeder) WHERE feeder <> '';
CREATE INDEX IF NOT EXISTS accounts_zip ON herald.accounts (zip) WHERE zip <> '';

-- The active accounts in the area, built by the engine (not the HTTP request) from the three
-- sets once per area change: every notice walks it in account order, in chunks, and the
-- outage's counts read it.
CREATE TABLE herald.outage_accounts (
  outage_id   text NOT NULL,
  account_id  text NOT NULL,
  customer_id text NOT NULL,
  PRIMARY KEY (outage_id, account_id)
);

-- Every change: who, when, from where (api or event), and the fields that changed (old -> new).
CREATE TABLE herald.outage_history (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  outage_id text NOT NULL,
  at        timestamptz NOT NULL,
  actor     text NOT NULL,
  source    text NOT NULL CHECK (source IN ('api', 'event')),
  status    text NOT NULL,
  changes   jsonb NOT NULL
);
CREATE INDEX outage_history_outage ON herald.outage_history (outage_id, id);

-- One notice told to an outage's customers (confirmed, an ETR moved, restored, a planned
-- notice...). The engine writes its messages in chunks of accounts, each chunk a transaction
-- that moves `cursor` (the last account written), so a restart resumes where it stopped and
-- no account hears a notice twice. texts holds what was rendered once per channel and language.
CREATE TABLE herald.outage_notices (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  outage_id  text NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('confirmed', 'etr_updated', 'crew_assigned', 'restored',
                                           'planned_notice', 'planned_reminder', 'cancelled')),
  type       text NOT NULL,
  texts      jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  cursor     text NOT NULL DEFAULT '',
  created    integer NOT NULL DEFAULT 0,  -- messages written
  replaced   integer NOT NULL DEFAULT 0,  -- queued messages given this notice's text instead
  done_at    timestamptz
);
CREATE INDEX outage_notices_outage ON herald.outage_notices (outage_id, id);
CREATE INDEX outage_notices_pending ON herald.outage_notices (id) WHERE done_at IS NULL;

-- Messages know their outage: a later notice finds the queued ones to replace, and the outage's
-- counts find its messages. Written once with the row, so status updates stay HOT.
ALTER TABLE herald.messages ADD COLUMN outage_id text;
CREATE INDEX messages_outage ON herald.messages (outage_id, account_id, channel) WHERE outage_id IS NOT NULL;

-- The outage a report at a premise belongs to, as of `at`: the newest one still active there,
-- else the newest restored there in the last day (an OUT answering "Power is restored" belongs
-- to the outage it answers). A premise is in an outage by id, or by the feeder or ZIP of an
-- account at it.
CREATE FUNCTION herald.outage_at_premise(premise text, at timestamptz, include_restored boolean)
RETURNS text LANGUAGE sql STABLE AS $$
  WITH here AS (
    SELECT outage_id FROM herald.outage_premises WHERE premise_id = premise
    UNION
    SELECT f.outage_id FROM herald.accounts a JOIN herald.outage_feeders f ON f.feeder = a.feeder
    WHERE a.premise_id = premise AND a.feeder <> ''
    UNION
    SELECT z.outage_id FROM herald.accounts a JOIN herald.outage_zips z ON z.zip = a.zip
    WHERE a.premise_id = premise AND a.zip <> ''
  )
  SELECT o.outage_id FROM herald.outages o JOIN here USING (outage_id)
  WHERE premise <> '' AND o.created_at <= at
    AND (o.status NOT IN ('restored', 'cancelled', 'planned')
         OR (o.status = 'planned' AND at >= o.planned_start AND at < coalesce(o.planned_end, 'infinity'))
         OR (include_restored AND o.status = 'restored' AND o.ended_at > at - interval '1 day'))
  ORDER BY (o.status <> 'restored') DESC, o.seq DESC
  LIMIT 1
$$;
