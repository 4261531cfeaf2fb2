#!/usr/bin/env python3
"""Inbound SMS benchmark: Twilio webhook throughput with signature checks and keyword handling,
as a ratio of the plain GET /livez rate measured in the same run, and keyword reply latency.

Usage (from the repository root, as root or as a user who can run initdb):
    python3 bench/inbound/run.py                     # 5,000 numbers, 10 s per phase, 8 connections
    python3 bench/inbound/run.py --numbers 2000 --seconds 5 --connections 4
Not a test: it never fails on a number. See bench/README.md.

Phases, each alone on the machine, each from --connections client processes holding one
keep-alive connection apiece:
  livez         GET /livez (the baseline: routing and HTTP only)
  help          POST /v1/webhooks/twilio/sms "HELP" from a registered number: signature check,
                stored once per MessageSid, classified, the HELP text in TwiML
  conversation  "N" answering an open conversation (one per number, opened beforehand): matched,
                the conversation closed, the reply in TwiML
  bal           "BAL" (no CIS configured: the latest bill read from Herald's own events)
Every webhook request carries a fresh MessageSid and a valid X-Twilio-Signature.
"""
from __future__ import annotations

import argparse
import base64
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import secrets
import statistics
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "bench", "load"))

from herald_e2e import Api, Heraldd, find_heraldd  # noqa: E402
from run import ZONE, BenchPostgres, add_pg_option, pg_settings  # noqa: E402  (bench/load/run.py: a durable private Postgres)

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "bench-twilio-auth-token"
HERALD_NUMBER = "+12175550000"
WEBHOOK = "/v1/webhooks/twilio/sms"


def phone(i: int) -> str:
    return f"+1217{6000000 + i:07d}"


def customer(i: int) -> dict:
    return {"customer_id": f"C-{i}", "name": f"Customer {i}", "language": "en",
            "accounts": [{"account_id": f"A-{i}", "premise_id": f"P-{i}",
                          "service_address": {"line1": f"{i} Main St", "city": "Springfield", "state": "IL",
                                              "zip": "62701"},
                          "timezone": ZONE, "feeder": f"F-{i % 40}", "segments": []}],
            "contacts": [{"channel": "sms", "address": phone(i)}]}


def signature(url: str, params: dict) -> str:
    data = url + "".join(k + v for k, v in sorted(params.items()))
    return base64.b64encode(hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _client(args):
    """One client process: one keep-alive connection, requests until the deadline (or, answering
    conversations, until its numbers run out). Returns (count, errors, latencies, seconds spent)."""
    port, phase, numbers, start_at, seconds, public_url = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, errors = [], 0
    i = 0
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = start_at + seconds
    while time.time() < deadline:
        if phase == "livez":
            method, path, body, headers = "GET", "/livez", None, {}
        else:
            if not numbers:
                break
            if phase == "conversation":
                number = numbers.pop()  # each open conversation is answered once
            else:
                number = numbers[i % len(numbers)]
            text = {"help": "HELP", "conversation": "N", "bal": "BAL"}[phase]
            params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID, "From": number,
                      "To": HERALD_NUMBER, "Body": text, "NumMedia": "0"}
            body = urllib.parse.urlencode(params)
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": signature(public_url + WEBHOOK, params)}
            method, path = "POST", WEBHOOK
        i += 1
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            payload = r.read()
            ok = r.status == 200 and (phase == "livez" or b"<Message>" in payload)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ok = False
        latencies.append(time.perf_counter() - t0)
        if not ok:
            errors += 1
    elapsed = time.time() - start_at
    conn.close()
    return len(latencies), errors, latencies, min(elapsed, seconds)


def run_phase(pool, port, phase, connections, seconds, numbers, public_url):
    shares = [numbers[k::connections] for k in range(connections)]
    start_at = time.time() + 0.5
    results = pool.map(_client, [(port, phase, shares[k], start_at, seconds, public_url) for k in range(connections)])
    count = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    return count, errors, latencies, max(r[3] for r in results)


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--numbers", type=int, default=5000, help="registered numbers (and conversations opened)")
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each timed phase")
    ap.add_argument("--connections", type=int, default=8, help="client processes, one keep-alive connection each")
    ap.add_argument("--heraldd", default=None)
    ap.add_argument("--json", default=None, help="also write the numbers here")
    ap.add_argument("--keep", action="store_true")
    add_pg_option(ap)
    args = ap.parse_args()

    pg = BenchPostgres(keep=args.keep, settings=pg_settings(args.pg)).start()
    d = None
    try:
        d = Heraldd(find_heraldd(args.heraldd), pg.url(), env={
            "HERALD_INTAKE_WORKERS": "0", "HERALD_DISPATCH_WORKERS": "0", "HERALD_SERVER_LOG_LEVEL": "warn",
            "HERALD_CHANNELS_SMS": "twilio",
            "HERALD_GATEWAYS_TWILIO_TYPE": "twilio", "HERALD_GATEWAYS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "HERALD_GATEWAYS_TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HERALD_GATEWAYS_TWILIO_FROM": HERALD_NUMBER,
            "HERALD_GATEWAYS_TWILIO_BASE_URL": "http://127.0.0.1:9"})
        d.migrate()
        d.provision_keys()
        d.start()
        print(f"loading {args.numbers} customers ...", flush=True)
        def put(i):
            api = Api(d.base_url, d.cis_key)
            body = customer(i)
            r = api.put(f"/v1/customers/{body.pop('customer_id')}", body)
            assert r.status == 200, r.text

        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(put, range(args.numbers)))
        numbers = [phone(i) for i in range(args.numbers)]
        # A bill per account for BAL to find, and one open conversation per number for "N".
        pg.psql("INSERT INTO herald.events (event_id, type, account_id, data, status, processed_at)"
                f" SELECT 'bench-bill-' || i, 'bill.ready', 'A-' || i,"
                " jsonb_build_object('amount_due', '82.17', 'due_date', '2026-12-10'), 'processed', now()"
                f" FROM generate_series(0, {args.numbers - 1}) i")
        pg.psql("INSERT INTO herald.messages (event_seq, event_id, customer_id, account_id, channel, address, type,"
                " topic, status, created_at)"
                " SELECT e.seq, e.event_id, 'C-' || substr(e.account_id, 3), e.account_id, 'sms',"
                " '+1217' || lpad((6000000 + substr(e.account_id, 3)::int)::text, 7, '0'), 'bill.ready', 'billing',"
                " 'delivered', now() FROM herald.events e WHERE e.event_id LIKE 'bench-bill-%'")
        pg.psql("INSERT INTO herald.conversations (channel, address, customer_id, account_id, expected, context,"
                " opened_at, expires_at)"
                " SELECT 'sms', address, customer_id, account_id, '{\"N\": \"close\"}', '{}', now(),"
                " now() + interval '1 day' FROM herald.messages WHERE event_id LIKE 'bench-bill-%'")
        pg.psql("VACUUM ANALYZE")

        results = {}
        with multiprocessing.Pool(args.connections) as pool:
            for phase in ("livez", "help", "conversation", "bal", "livez"):
                count, errors, lat, elapsed = run_phase(pool, d.port, phase, args.connections, args.seconds,
                                                        list(numbers), d.base_url)
                rate = count / elapsed if elapsed > 0 else float("nan")
                key = phase if phase not in results else phase + "_again"
                results[key] = {"requests": count, "errors": errors, "per_second": rate,
                                "p50_ms": percentile(lat, 50) * 1000, "p99_ms": percentile(lat, 99) * 1000}
                print(f"{key:>14}: {count:7d} requests, {errors} errors, {rate:8.0f}/s, "
                      f"p50 {results[key]['p50_ms']:.2f} ms, p99 {results[key]['p99_ms']:.2f} ms", flush=True)
        base = (results["livez"]["per_second"] + results["livez_again"]["per_second"]) / 2
        print(f"\nlivez baseline (mean of both runs): {base:.0f}/s")
        for phase in ("help", "conversation", "bal"):
            r = results[phase]
            r["ratio_to_livez"] = r["per_second"] / base if base else float("nan")
            print(f"{phase:>14}: {r['per_second']:8.0f}/s = {r['ratio_to_livez']:.3f} of /livez; "
                  f"keyword reply p99 {r['p99_ms']:.2f} ms")
        stored = pg.psql("SELECT count(*) FROM herald.inbound_messages")
        print(f"inbound messages stored: {stored}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"numbers": args.numbers, "connections": args.connections, "seconds": args.seconds,
                           "livez_per_second": base, "phases": results}, f, indent=2)
    finally:
        if d is not None and d.proc is not None:
            d.terminate()
        pg.stop()


if __name__ == "__main__":
    main()
