-- Area notices: a notice.broadcast with no account_id names an area (data.target: ZIPs,
-- feeders, segments, premise ids) and is fanned out to the accounts there by one set-based
-- statement per chunk, not by the per-account intake.

-- The area-notice round finds its events without walking the other pending events; the
-- per-account intake passes them by.
CREATE INDEX events_area_notices ON herald.events (seq)
  WHERE status = 'accepted' AND type = 'notice.broadcast' AND account_id IS NULL;

-- Accounts are found by ZIP, feeder and premise (accounts_premise exists since 0001; the ZIP
-- and feeder indexes may exist already, built the same way for outages). Segments have no
-- index: a GIN index would cost every account write (bulk imports) for a rare notice, which
-- reads the accounts once instead.
CREATE INDEX IF NOT EXISTS accounts_feeder ON herald.accounts (feeder) WHERE feeder <> '';
CREATE INDEX IF NOT EXISTS accounts_zip ON herald.accounts (zip) WHERE zip <> '';
