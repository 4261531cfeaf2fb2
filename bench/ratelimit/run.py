#!/usr/bin/env python3
"""Rate-limit benchmark: an SMS gateway limited to 100 messages/s, with a backlog much larger
than a minute's worth queued, sends 100 ± 2 each second over a minute. Counts are taken where
the provider sees them (the local fake Twilio's receive times), one-second buckets after a
warm-up, and printed as min / max / mean per second with the seconds outside 98-102.

With --emails N, N emails of the same lane are queued behind the SMS backlog (the `log` email
gateway, not rate-limited) and the run also prints how many SMS had gone out when the last
email was sent: the emails should not wait for the backlog's tokens.

Usage (from the repository root, as root or as a user who can run initdb):
    python3 bench/ratelimit/run.py                   # 100/s over 60 s
    python3 bench/ratelimit/run.py --rate 50 --seconds 30
    python3 bench/ratelimit/run.py --emails 500
Not a test: it never fails on a number. See bench/README.md.
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))

from fake_twilio import FakeTwilio  # noqa: E402
from herald_e2e import Heraldd, find_heraldd, poll  # noqa: E402

_spec = importlib.util.spec_from_file_location("load_run", os.path.join(ROOT, "bench", "load", "run.py"))
load_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load_run)


def queue_backlog(pg, count: int, due: str = "now()") -> None:
    """count SMS messages due at `due` (SQL), in the standard lane, written set-based."""
    pg.psql(f"""
        WITH m AS (
          INSERT INTO herald.messages (event_id, customer_id, account_id, channel, address, type, topic, language,
                                       body, segments, encoding, status, not_before, expires_at)
          SELECT 'rl-' || i, 'R-' || i, 'RA-' || i, 'sms', '+1312' || (2000000 + i), 'bill.ready', 'billing', 'en',
                 'Your bill is ready.', 1, 'GSM-7', 'queued', now(), now() + interval '1 day'
          FROM generate_series(1, {count}) AS i
          RETURNING id
        )
        INSERT INTO herald.message_queue (message_id, due_at, lane) SELECT id, {due}, 3 FROM m;
        NOTIFY herald_messages;""")


def queue_emails(pg, count: int) -> None:
    """count emails due now, in the standard lane: behind an SMS backlog due earlier."""
    pg.psql(f"""
        WITH m AS (
          INSERT INTO herald.messages (event_id, customer_id, account_id, channel, address, type, topic, language,
                                       subject, body, status, not_before, expires_at)
          SELECT 'rl-mail-' || i, 'RM-' || i, 'RMA-' || i, 'email', 'reader' || i || '@example.com', 'bill.ready',
                 'billing', 'en', 'Your bill', 'Your bill is ready.', 'queued', now(), now() + interval '1 day'
          FROM generate_series(1, {count}) AS i
          RETURNING id
        )
        INSERT INTO herald.message_queue (message_id, due_at, lane) SELECT id, now(), 3 FROM m;
        NOTIFY herald_messages;""")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=100.0, help="the gateway's rate_per_second")
    ap.add_argument("--burst", type=float, default=None, help="the gateway's burst (default: the rate)")
    ap.add_argument("--seconds", type=int, default=60, help="measured seconds")
    ap.add_argument("--warmup", type=int, default=3, help="seconds skipped first (the full bucket's burst)")
    ap.add_argument("--heraldd", help="heraldd binary (default as bench/load/run.py)")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra heraldd environment")
    ap.add_argument("--keep", action="store_true", help="keep the Postgres cluster and logs")
    ap.add_argument("--emails", type=int, default=0, help="emails of the same lane queued behind the SMS backlog")
    load_run.add_pg_option(ap)
    args = ap.parse_args()
    try:
        binary = find_heraldd(args.heraldd)
    except RuntimeError as e:
        sys.exit(f"{e}; or pass --heraldd")
    burst = args.burst if args.burst is not None else args.rate
    total_seconds = args.warmup + args.seconds
    backlog = int(args.rate * (total_seconds + 30))

    twilio = FakeTwilio().start()
    pg = load_run.BenchPostgres(keep=args.keep, settings=load_run.pg_settings(args.pg)).start()
    env = {"HERALD_CHANNELS_SMS": "twilio", "HERALD_CHANNELS_EMAIL": "log", "HERALD_CHANNELS_VOICE": "log",
           "HERALD_SERVER_LOG_LEVEL": "warn",
           **twilio.gateway_env("TWILIO", rate_per_second=args.rate, burst=burst)}
    if args.emails:  # the emails' gateway is not the one limited
        env.update({"HERALD_GATEWAYS_LOG_TYPE": "log", "HERALD_GATEWAYS_LOG_RATE_PER_SECOND": "100000",
                    "HERALD_GATEWAYS_LOG_BURST": "100000"})
    env.update(load_run.heraldd_env(args.env))
    herald = Heraldd(binary, pg.url(), env)
    try:
        herald.migrate()
        herald.provision_keys()
        herald.start()
        print(f"heraldd pid {herald.pid}; gateway limited to {args.rate:g}/s (burst {burst:g}); "
              f"{backlog} messages queued", flush=True)
        print("load average (1, 5, 15 min) at the start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
        queued_at = time.time()
        queue_backlog(pg, backlog, due="now() - interval '1 second'" if args.emails else "now()")
        if args.emails:
            queue_emails(pg, args.emails)
        poll(lambda: twilio.accepted_count > 0, timeout=30, what="the first send")
        first = min(m.received_at for m in twilio.messages)
        start = first + args.warmup
        end = start + args.seconds
        while time.time() < end + 1:
            time.sleep(0.5)
        counts = [0] * args.seconds
        for m in twilio.messages:
            if start <= m.received_at < end:
                counts[math.floor(m.received_at - start)] += 1
        mean = statistics.fmean(counts)
        outside = [(i, c) for i, c in enumerate(counts) if abs(c - args.rate) > 2]
        print(f"per-second sends over {args.seconds} s after {args.warmup} s warm-up: "
              f"min {min(counts)}, max {max(counts)}, mean {mean:.2f}, stdev {statistics.pstdev(counts):.2f} "
              f"(limit {args.rate:g}/s; {len(outside)} seconds outside ±2)", flush=True)
        print("counts: " + " ".join(str(c) for c in counts), flush=True)
        if outside:
            print("outside ±2 (second: count): " + ", ".join(f"{i}: {c}" for i, c in outside), flush=True)
        first_second = sum(1 for m in twilio.messages if first <= m.received_at < first + 1)
        print(f"first second (full bucket): {first_second}", flush=True)
        if args.emails:
            row = pg.psql("SELECT count(*), extract(epoch FROM max(sent_at)) FROM herald.messages "
                          "WHERE channel = 'email' AND status = 'sent'").strip().split("|")
            sent, last = int(row[0]), float(row[1]) if row[1] else None
            if last is None:
                print(f"emails: none of {args.emails} sent", flush=True)
            else:
                sms_before = sum(1 for m in twilio.messages if m.received_at < last)
                print(f"emails: {sent} of {args.emails} sent, the last {last - queued_at:.2f} s after queueing, "
                      f"when {sms_before} SMS had gone out ({sms_before / args.rate:.1f} s of the limit)", flush=True)
        print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    finally:
        herald.terminate(timeout=120)
        pg.stop()
        twilio.stop()


if __name__ == "__main__":
    main()
