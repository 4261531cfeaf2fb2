#!/usr/bin/env python3
"""Outage fan-out benchmark: one outage over every premise of N customers (PUT /v1/outages),
the time until all its messages (and queue rows) are created, against a raw INSERT ... SELECT of
N message-wide rows into a table of the same shape, in the same run on the same Postgres.
heraldd's peak RSS is printed too (the fan-out keeps no per-recipient objects).

Usage (from the repository root, as root or as a user who can run initdb):
    python3 bench/outages/run.py                    # 100,000 customers
    python3 bench/outages/run.py --customers 20000  # a quick run
Not a test: it never fails on a number. See bench/README.md.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from herald_e2e import Heraldd, find_heraldd, zone_where  # noqa: E402

# The private Postgres of the load benchmark (bench/load/run.py), loaded by path: both files are run.py.
_spec = importlib.util.spec_from_file_location("load_bench", os.path.join(ROOT, "bench", "load", "run.py"))
_load_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_load_bench)
BenchPostgres = _load_bench.BenchPostgres

ZONE = zone_where(lambda t: 9 <= t.hour < 14)[0]


def load_customers(pg: BenchPostgres, n: int) -> None:
    """Customers straight into the tables (their loading is not what is measured here)."""
    pg.psql(f"""
INSERT INTO herald.customers (customer_id, name, language)
SELECT 'C-' || i, 'Customer ' || i, CASE WHEN i % 10 = 0 THEN 'es' ELSE 'en' END FROM generate_series(1, {n}) i;
INSERT INTO herald.accounts (account_id, customer_id, premise_id, service_address, timezone, feeder, zip)
SELECT 'A-' || i, 'C-' || i, 'P-' || i,
       jsonb_build_object('line1', i || ' Main St', 'city', 'Springfield', 'state', 'IL', 'zip', '62701'),
       '{ZONE}', 'F-' || (i % 40), '62701'
FROM generate_series(1, {n}) i;
INSERT INTO herald.preferences (customer_id, topics, language)
SELECT 'C-' || i, '{{"outage": ["sms"], "billing": ["email"]}}'::jsonb, CASE WHEN i % 10 = 0 THEN 'es' ELSE 'en' END
FROM generate_series(1, {n}) i;
INSERT INTO herald.contacts (customer_id, channel, address, verified)
SELECT 'C-' || i, 'sms', '+1217' || lpad((5000000 + i)::text, 7, '0'), true FROM generate_series(1, {n}) i;
INSERT INTO herald.contacts (customer_id, channel, address, verified)
SELECT 'C-' || i, 'email', 'customer' || i || '@example.com', true FROM generate_series(1, {n}) i;
ANALYZE;
""")


def raw_insert_seconds(pg: BenchPostgres, n: int) -> float:
    """N message-wide rows (an SMS body of the fan-out's length, a decision) into a copy of
    herald.messages with its indexes, and their queue rows, in one INSERT ... SELECT each."""
    pg.psql("""
CREATE TABLE herald.bench_messages (LIKE herald.messages INCLUDING ALL);
CREATE TABLE herald.bench_queue (LIKE herald.message_queue INCLUDING ALL);
""")
    sql = f"""
\\timing on
WITH ins AS (
  INSERT INTO herald.bench_messages (event_id, customer_id, account_id, contact_id, channel, address, type, topic,
    language, priority, subject, body, segments, encoding, status, decision, not_before, expires_at, outage_id)
  SELECT 'outage:O-raw:1', 'C-' || i, 'A-' || i, i, 'sms', '+1217' || lpad((5000000 + i)::text, 7, '0'),
         'outage.confirmed', 'outage', 'en', 1, '',
         'City Utilities: Power outage at ' || i || ' Main St (cause: storm). Estimated restoration November 24, '
           || '2026 at 5:00 PM CST. Reply STOP to opt out.', 1, 'GSM-7', 'queued',
         '{{"chosen_by": "preference", "time_zone": "{ZONE}", "consent": "opted_in", "reason": "send_now",'
           ' "outage": {{"outage_id": "O-raw", "notice": "confirmed"}}}}'::jsonb,
         now(), now() + interval '12 hours', 'O-raw'
  FROM generate_series(1, {n}) i
  RETURNING id, not_before)
INSERT INTO herald.bench_queue (message_id, due_at) SELECT id, not_before FROM ins;
"""
    path = os.path.join(pg.dir, "raw.sql")
    with open(path, "w") as f:
        f.write(sql)
    started = time.monotonic()
    pg.psql(file=path)
    return time.monotonic() - started


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=5000, help="outages.chunk_accounts")
    ap.add_argument("--heraldd", default=None)
    _load_bench.add_pg_option(ap)
    args = ap.parse_args()
    n = args.customers

    pg = BenchPostgres(settings=_load_bench.pg_settings(args.pg)).start()
    herald = None
    try:
        env = {"HERALD_INTAKE_WORKERS": "0", "HERALD_DISPATCH_WORKERS": "0",
               "HERALD_OUTAGES_CHUNK_ACCOUNTS": str(args.chunk)}
        herald = Heraldd(find_heraldd(args.heraldd), pg.url(), env)
        herald.migrate()
        herald.provision_keys()
        print(f"loading {n:,} customers (SQL) ...", flush=True)
        load_customers(pg, n)
        raw = raw_insert_seconds(pg, n)
        pg.psql("DROP TABLE herald.bench_messages; DROP TABLE herald.bench_queue; CHECKPOINT")
        print(f"raw INSERT ... SELECT of {n:,} message-wide rows and queue rows: {raw:.2f} s", flush=True)

        herald.start()
        body = {"status": "confirmed", "cause": "storm", "etr": "2026-11-24T23:00:00Z",
                "affected": {"premise_ids": [], "feeders": [f"F-{k}" for k in range(40)], "zips": []}}
        started = time.monotonic()
        r = herald.cis.put("/v1/outages/O-bench", body)
        put_seconds = time.monotonic() - started
        assert r.status == 201, r
        first = None
        peak = 0.0
        while True:
            created = int(pg.psql("SELECT coalesce(sum(created), 0) FROM herald.outage_notices"
                                  " WHERE outage_id = 'O-bench'") or 0)
            done = pg.psql("SELECT count(*) FROM herald.outage_notices WHERE outage_id = 'O-bench'"
                           " AND done_at IS NOT NULL") == "1"
            peak = max(peak, peak_rss_mb(herald.pid))
            if created > 0 and first is None:
                first = time.monotonic() - started
            if done:
                break
            if time.monotonic() - started > 1800:
                raise RuntimeError("fan-out did not finish within 30 minutes")
            time.sleep(0.05)
        total = time.monotonic() - started
        peak = max(peak, peak_rss_mb(herald.pid))
        messages = int(pg.psql("SELECT count(*) FROM herald.messages WHERE outage_id = 'O-bench'"))
        queued = int(pg.psql("SELECT count(*) FROM herald.message_queue"))
        print(f"PUT answered in {put_seconds * 1000:.0f} ms; first chunk committed after {first or total:.2f} s")
        print(f"fan-out: {messages:,} messages ({queued:,} queue rows) in {total:.2f} s "
              f"({messages / total:,.0f} messages/s)")
        print(f"ratio fan-out / raw INSERT ... SELECT: {total / raw:.2f}")
        print(f"heraldd peak RSS (VmHWM): {peak:.0f} MB")
    finally:
        if herald is not None and herald.running:
            herald.terminate()
        pg.stop()


if __name__ == "__main__":
    main()
