#!/usr/bin/env python3
"""History benchmark: p50/p99 of the admin's searches (GET /v1/messages with each filter alone and
combined, first page and a deep page; GET /v1/customers?q=) over HTTP on a generated history,
next to a primary-key lookup (GET /v1/messages/{id}) measured in the same run.

Usage (from the repository root, as root or as a user who can run initdb):
    python3 bench/history/run.py                      # 1,000,000 messages, 100,000 customers
    python3 bench/history/run.py --messages 20000 --requests 5   # a smoke run (seconds)
Not a test: it never fails on a number. See bench/README.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "bench", "load"))

from herald_e2e import PG_BIN, Api, Heraldd, find_heraldd, poll  # noqa: E402
from run import INDEX_BEHIND, BenchPostgres, add_pg_option, pg_settings  # noqa: E402  (bench/load/run.py: a private durable cluster)

FIRST = ["Ada", "Grace", "Alan", "Maria", "Jose", "Wei", "Amara", "Olga", "Priya", "Kenji", "Fatima", "Liam",
         "Noah", "Emma", "Sofia", "Mateo", "Chloe", "Omar", "Ines", "Tariq", "Hana", "Lucas", "Zoe", "Ravi"]
LAST = ["Lovelace", "Hopper", "Turing", "Garcia", "Okafor", "Nguyen", "Kowalski", "Haddad", "Silva", "Tanaka",
        "Johansson", "Murphy", "Schmidt", "Rossi", "Dubois", "Novak", "Fernandez", "Moreau", "Kim", "Patel",
        "Brennan", "Achterberg", "Quispe", "Zielinski", "Oyelaran", "Vasquez", "Lindqvist", "Castellano"]

# (type, topic, weight): bills dominate, leaks and disconnections are rare.
TYPES = [("bill.ready", "billing", 30), ("bill.due_soon", "billing", 15), ("payment.received", "billing", 20),
         ("payment.declined", "billing", 2), ("payment.scheduled", "billing", 5), ("account.past_due", "billing", 4),
         ("disconnection.scheduled", "billing", 0.5), ("card.expiring", "billing", 1.5), ("meter.read", "other", 6),
         ("usage.high", "other", 3), ("leak.detected", "other", 0.2), ("service.order_updated", "other", 4),
         ("appointment.scheduled", "other", 3), ("notice.broadcast", "outage", 5.8)]
CHANNELS = [("sms", 60), ("email", 35), ("voice", 5)]
# Final statuses of history; the newest few hours also hold messages still to go out.
STATUSES = [("delivered", 78), ("sent", 8.5), ("suppressed", 6), ("undelivered", 2.5), ("failed", 1),
            ("sending", 0.1)]
REASONS = ["opted_out", "preference_off", "no_contact", "expired", "frequency_cap"]

BODY = {
    "bill.ready": "Springfield Utilities: your bill of ${amount} for account {account} is ready, due {due}.",
    "bill.due_soon": "Reminder: ${amount} for account {account} is due {due}. Pay at springfield.example/pay",
    "payment.received": "Thank you: we received your payment of ${amount} for account {account}.",
    "payment.declined": "Your payment of ${amount} for account {account} was declined. Please update your card.",
    "payment.scheduled": "Your payment of ${amount} is scheduled for {due}.",
    "account.past_due": "Account {account} is past due: ${amount}. Reply PAY to pay now.",
    "disconnection.scheduled": "NOTICE: service at account {account} will be disconnected on {due} unless ${amount} is paid.",
    "card.expiring": "The card on file for account {account} expires soon. Update it to keep autopay.",
    "meter.read": "Your meter was read: {kwh} kWh this month for account {account}.",
    "usage.high": "Your usage is {pct}% above normal this week ({kwh} kWh).",
    "leak.detected": "Possible water leak at account {account}: continuous flow for {hours} hours.",
    "service.order_updated": "Service order {order} for account {account} is now {state}.",
    "appointment.scheduled": "Your technician visit is booked for {due} between 8 and 12.",
    "notice.broadcast": "Boil-water notice for zip {zip} until further notice. Outage crews are on site.",
}
SUBJECT = {t: t.replace(".", " ").replace("_", " ").capitalize() for t, _, _ in TYPES}


def weighted(rng: random.Random, table):
    total = sum(w for *_, w in table)
    cumulative, acc = [], 0.0
    for row in table:
        acc += row[-1]
        cumulative.append(acc / total)

    def pick():
        x = rng.random()
        for row, c in zip(table, cumulative):
            if x <= c:
                return row
        return table[-1]
    return pick


def copy_text(value) -> str:
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_rows(pg: BenchPostgres, table: str, columns: list[str], rows) -> int:
    proc = subprocess.Popen([f"{PG_BIN}/psql", pg.url(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                             f"COPY {table} ({', '.join(columns)}) FROM STDIN"],
                            stdin=subprocess.PIPE, text=True)
    n = 0
    buf = []
    for row in rows:
        buf.append("\t".join(copy_text(v) for v in row))
        n += 1
        if len(buf) == 5000:
            proc.stdin.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        proc.stdin.write("\n".join(buf) + "\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"COPY {table} failed")
    return n


def phone(i: int) -> str:
    return f"+1217{5000000 + i:07d}"


def national(e164: str) -> str:
    """+12175001234 as a person types it: (217) 500-1234."""
    return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"


def email(i: int) -> str:
    return f"customer{i}@example.com"


def customer_name(i: int) -> str:
    rng = random.Random(i)
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def generate_customers(pg: BenchPostgres, n: int) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    copy_rows(pg, "herald.customers", ["customer_id", "name", "language"],
              ((f"C-{i}", customer_name(i), "es" if i % 7 == 0 else "en") for i in range(n)))
    copy_rows(pg, "herald.accounts", ["account_id", "customer_id", "premise_id", "timezone", "zip", "feeder"],
              ((f"A-{i}", f"C-{i}", f"P-{i * 3 + 1}", "America/Chicago", f"62{i % 1000:03d}", f"F-{i % 40}")
               for i in range(n)))

    def contacts():
        for i in range(n):
            yield (f"C-{i}", "sms", phone(i), True, now)
            yield (f"C-{i}", "email", email(i), True, now)
    copy_rows(pg, "herald.contacts", ["customer_id", "channel", "address", "verified", "created_at"], contacts())
    pg.psql("INSERT INTO herald.preferences (customer_id, topics)"
            " SELECT customer_id, '{\"billing\": [\"sms\", \"email\"], \"outage\": [\"sms\"], \"other\": [\"email\"]}'"
            " FROM herald.customers")


def generate_messages(pg: BenchPostgres, n: int, customers: int, days: int, seed: int) -> None:
    rng = random.Random(seed)
    pick_type = weighted(rng, TYPES)
    pick_channel = weighted(rng, CHANNELS)
    pick_status = weighted(rng, STATUSES)
    end = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    start = end - datetime.timedelta(days=days)
    span = (end - start).total_seconds()
    columns = ["event_id", "customer_id", "account_id", "channel", "address", "type", "topic", "language",
               "subject", "body", "html", "segments", "encoding", "status", "suppression_reason", "decision",
               "attempts", "gateway", "created_at", "updated_at", "sent_at"]

    def rows():
        for i in range(n):
            # Ids follow created_at, as heraldd writes them; a little jitter within a second.
            at = start + datetime.timedelta(seconds=span * i / n + rng.random())
            c = rng.randrange(customers)
            typ, topic, _ = pick_type()
            ch, _ = pick_channel()
            status, _ = pick_status()
            if status == "sending" and (end - at).total_seconds() > 6 * 3600:
                status = "delivered"
            fields = {"amount": f"{rng.uniform(20, 400):.2f}", "account": f"A-{c}",
                      "due": (at + datetime.timedelta(days=rng.randint(3, 20))).date().isoformat(),
                      "kwh": rng.randint(200, 1800), "pct": rng.randint(20, 90), "hours": rng.randint(2, 30),
                      "order": f"SO-{rng.randint(10000, 99999)}", "state": rng.choice(["scheduled", "complete"]),
                      "zip": f"62{c % 1000:03d}"}
            body = BODY[typ].format(**fields)
            address = email(c) if ch == "email" else phone(c)
            subject = SUBJECT[typ] if ch == "email" else ""
            html = f"<p>{body}</p><p><a href=\"https://springfield.example/\">Springfield Utilities</a></p>" \
                if ch == "email" else ""
            reason = rng.choice(REASONS) if status == "suppressed" else None
            sent = status not in ("suppressed", "sending")
            gateway = {"sms": "twilio", "email": "smtp", "voice": "twilio-voice"}[ch] if sent else None
            stamp = at.isoformat()
            yield (f"ev-{i // 2}", f"C-{c}", f"A-{c}", ch, address, typ, topic, "en", subject, body, html,
                   1 if ch == "sms" else 0, "GSM-7" if ch == "sms" else "", status, reason,
                   json.dumps({"rules": ["topic_channel"], "why": "subscribed"}), 1 if sent else 0, gateway,
                   stamp, stamp, stamp if sent else None)
    copy_rows(pg, "herald.messages", columns, rows())


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def time_requests(api: Api, paths: list[str], warm_up: int = 5) -> list[float]:
    """Milliseconds per request; the first few requests (warming caches for this query) are not counted."""
    for path in paths[:warm_up]:
        api.get(path)
    out = []
    for path in paths:
        t0 = time.perf_counter()
        r = api.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            raise RuntimeError(f"GET {path}: {r.status} {r.text[:300]}")
    return out


def deep_cursor(api: Api, query: str, pages: int) -> tuple[str | None, int]:
    """The cursor reached after `pages` pages of 500: how an admin scrolling far back gets there."""
    cursor, depth = None, 0
    for _ in range(pages):
        r = api.get("/v1/messages?" + query + "&limit=500" + (f"&cursor={cursor}" if cursor else ""))
        body = r.json()
        depth += len(body["items"])
        if not body["next_cursor"]:
            break
        cursor = body["next_cursor"]
    return cursor, depth


MESSAGE_COLUMNS = ("event_id, customer_id, account_id, channel, address, type, topic, language, subject, body, html,"
                   " segments, encoding, status, suppression_reason, decision, attempts, gateway, created_at,"
                   " updated_at, sent_at")


def write_cost(pg: BenchPostgres, rows: int) -> dict:
    """What the history indexes cost the writer: COPY of the same rows into herald.messages with
    migration 0010's message indexes and status triggers, then without them (0005's set)."""
    path = os.path.join(pg.dir, "write-cost.copy")
    # Stamped now, as intake writes them: new rows land at the end of the created_at index.
    stamped = MESSAGE_COLUMNS.replace("created_at, updated_at, sent_at", "now(), now(), CASE WHEN sent_at IS NULL THEN NULL ELSE now() END")
    pg.psql(f"COPY (SELECT {stamped} FROM herald.messages ORDER BY id LIMIT {rows}) TO '{path}'")

    def timed_copy() -> float:
        pg.psql("CHECKPOINT")
        t0 = time.perf_counter()
        pg.psql(f"COPY herald.messages ({MESSAGE_COLUMNS}) FROM '{path}'")
        return rows / (time.perf_counter() - t0)
    with_0010 = timed_copy()
    pg.psql("DROP INDEX herald.messages_type, herald.messages_created_at;"
            "DROP INDEX IF EXISTS herald.messages_text;"
            "DROP TRIGGER messages_status_inserted ON herald.messages;"
            "DROP TRIGGER messages_status_changed ON herald.messages;"
            "CREATE INDEX messages_created ON herald.messages USING brin (created_at)")
    without = timed_copy()
    print(f"\nwrite cost: COPY of {rows:,} messages {with_0010:,.0f} rows/s with the history indexes, "
          f"{without:,.0f} rows/s without them (ratio {with_0010 / without:.2f})", flush=True)
    return {"rows": rows, "with_rows_per_s": with_0010, "without_rows_per_s": without}


def add_tail(pg: BenchPostgres, rows: int) -> None:
    """Messages the text indexer has not reached: copies of the newest rows, stamped now."""
    path = os.path.join(pg.dir, "tail.copy")
    stamped = MESSAGE_COLUMNS.replace("created_at, updated_at, sent_at", "now(), now(), CASE WHEN sent_at IS NULL THEN NULL ELSE now() END")
    pg.psql(f"COPY (SELECT {stamped} FROM herald.messages ORDER BY id DESC LIMIT {rows}) TO '{path}'")
    pg.psql(f"COPY herald.messages ({MESSAGE_COLUMNS}) FROM '{path}'")
    pg.psql("ANALYZE herald.messages")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=None, help="default: one per ten messages")
    ap.add_argument("--days", type=int, default=180, help="the history's span, ending now")
    ap.add_argument("--requests", type=int, default=200, help="requests per row of the table")
    ap.add_argument("--deep-pages", type=int, default=40, help="pages of 500 walked to reach the deep page")
    ap.add_argument("--tail", type=int, default=20_000,
                    help="messages added with the text indexer off, for the q rows measured above its watermark")
    ap.add_argument("--heraldd", help="heraldd binary (default: $HERALD_BIN, else build/src/app/heraldd)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--keep", action="store_true", help="keep the Postgres cluster")
    add_pg_option(ap)
    args = ap.parse_args()
    customers = args.customers or max(100, args.messages // 10)
    binary = find_heraldd(args.heraldd)

    pg = BenchPostgres(keep=args.keep, settings=pg_settings(args.pg)).start()
    herald = Heraldd(binary, pg.url(), {"HERALD_INTAKE_WORKERS": "0", "HERALD_DISPATCH_WORKERS": "0",
                                         "HERALD_SERVER_LOG_LEVEL": "warn",
                                         "HERALD_HTTP_RATE_LIMITS_ADMIN_PER_SECOND": "0"})
    try:
        herald.migrate()
        herald.provision_keys()
        t0 = time.monotonic()
        generate_customers(pg, customers)
        generate_messages(pg, args.messages, customers, args.days, args.seed)
        pg.psql("VACUUM ANALYZE")
        print(f"generated {args.messages:,} messages for {customers:,} customers over {args.days} days "
              f"in {time.monotonic() - t0:.0f} s; postgres on port {pg.port}", flush=True)
        herald.start()
        # The text indexer backfills the history (migration 0018) at its own pace, the pace it
        # keeps beside intake and dispatch; the searches below read its index.
        t0 = time.monotonic()
        poll(lambda: int(pg.psql(INDEX_BEHIND)) <= 0, timeout=7200, interval=1, what="text indexer caught up")
        backfill_s = time.monotonic() - t0
        print(f"text indexer backfilled {args.messages:,} messages in {backfill_s:.0f} s = "
              f"{args.messages / backfill_s:,.0f} messages/s", flush=True)
        pg.psql("VACUUM ANALYZE herald.message_text")
        api = herald.admin
        rng = random.Random(args.seed + 1)

        max_id = int(pg.psql("SELECT max(id) FROM herald.messages"))
        end = datetime.datetime.now(datetime.timezone.utc)

        def at(days_ago: float) -> str:
            return urllib.parse.quote((end - datetime.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ"))

        # Picks an existing customer each time, so the cache sees a realistic spread of keys.
        def some_customer() -> int:
            return rng.randrange(customers)
        old_week = f"from={at(120)}&to={at(113)}"
        filters = [
            ("customer", lambda: f"customer_id=C-{some_customer()}"),
            ("account", lambda: f"account_id=A-{some_customer()}"),
            ("address (phone)", lambda: "address=" + urllib.parse.quote(phone(some_customer()))),
            ("channel=voice", lambda: "channel=voice"),
            ("type=leak.detected (rare)", lambda: "type=leak.detected"),
            ("type=bill.ready", lambda: "type=bill.ready"),
            ("topic=outage", lambda: "topic=outage"),
            ("status=failed", lambda: "status=failed"),
            ("status=sending (live)", lambda: "status=sending"),
            ("from/to: a week 4 months ago", lambda: old_week),
            ("from/to: the last day", lambda: f"from={at(1)}"),
            ("q=leak (rare word)", lambda: "q=leak"),
            ("q=declined", lambda: "q=declined"),
            ("q=account number", lambda: f"q=A-{some_customer()}%20"),
            ("phone + type", lambda: "address=" + urllib.parse.quote(phone(some_customer())) + "&type=bill.ready"),
            ("customer + status + channel", lambda: f"customer_id=C-{some_customer()}&status=delivered&channel=sms"),
            ("type + status", lambda: "type=payment.declined&status=failed"),
            ("channel + status + old week", lambda: "channel=email&status=undelivered&" + old_week),
            ("topic + q", lambda: "topic=billing&q=declined"),
            ("customer + q", lambda: f"customer_id=C-{some_customer()}&q=account"),
            ("status + q", lambda: "status=failed&q=declined"),
            ("status + q (rare word)", lambda: "status=suppressed&q=leak"),
            ("channel + q", lambda: "channel=voice&q=declined"),
            # A common channel with a rare word: the trigram matches, not a walk of the SMS rows.
            ("channel + q (rare word)", lambda: "channel=sms&q=leak"),
            ("type + q + old week", lambda: "type=bill.ready&q=due&" + old_week),
        ]
        results = {"messages": args.messages, "customers": customers, "requests": args.requests, "rows": [],
                   "index_backfill_per_s": args.messages / backfill_s}

        baseline = time_requests(api, [f"/v1/messages/{rng.randint(1, max_id)}" for _ in range(args.requests)])
        base_p99 = percentile(baseline, 99)

        def row(name: str, timings: list[float], depth: str = "") -> None:
            p50, p99 = statistics.median(timings), percentile(timings, 99)
            results["rows"].append({"query": name, "page": depth, "p50_ms": p50, "p99_ms": p99})
            print(f"{name:<34} {depth:>12} {p50:8.1f} {p99:8.1f} {p99 / base_p99:8.1f}", flush=True)

        print(f"\n{'GET /v1/messages?…':<34} {'page':>12} {'p50 ms':>8} {'p99 ms':>8} {'p99/pk':>8}")
        row("baseline: GET /v1/messages/{id}", baseline, "by key")
        row("no filter", time_requests(api, ["/v1/messages"] * args.requests), "first")
        for name, make in filters:
            row(name, time_requests(api, ["/v1/messages?" + make() for _ in range(args.requests)]), "first")
            query = make()
            cursor, depth = deep_cursor(api, query, args.deep_pages)
            if cursor:
                row(name, time_requests(api, [f"/v1/messages?{query}&cursor={cursor}"] * args.requests),
                    f"after {depth:,}")

        if args.tail:
            # The same text searches while the indexer is behind: heraldd again with it off, and
            # --tail new messages above the watermark that every q request scans.
            herald.terminate()
            herald.env["HERALD_SEARCH_BATCH_SIZE"] = "0"
            add_tail(pg, args.tail)
            herald.start()
            api = herald.admin
            print(f"\nq with {args.tail:,} messages above the text index's watermark:")
            for name, make in [f for f in filters if f[0].startswith("q=") or " q" in f[0]]:
                name = f"{name} [{args.tail:,} behind]"
                row(name, time_requests(api, ["/v1/messages?" + make() for _ in range(args.requests)]), "first")

        print(f"\n{'GET /v1/customers?q=…':<34} {'':>12} {'p50 ms':>8} {'p99 ms':>8} {'p99/pk':>8}")
        searches = [
            ("name (trigram)", lambda: "q=" + urllib.parse.quote(rng.choice(LAST))),
            ("name fragment", lambda: "q=" + urllib.parse.quote(rng.choice(LAST)[1:5].lower())),
            ("phone", lambda: "q=" + urllib.parse.quote(national(phone(some_customer())))),
            ("email", lambda: "q=" + urllib.parse.quote(email(some_customer()).upper())),
            ("account id", lambda: f"q=A-{some_customer()}"),
            ("premise id", lambda: f"q=P-{some_customer() * 3 + 1}"),
        ]
        customer_search = api.get("/v1/customers?q=x")
        if customer_search.status == 200:
            for name, make in searches:
                row(name, time_requests(api, ["/v1/customers?" + make() for _ in range(args.requests)]), "first")
        else:
            print(f"(GET /v1/customers?q= answered {customer_search.status}: not measured)")

        results["write"] = write_cost(pg, min(100_000, max(1000, args.messages // 10)))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
    finally:
        try:
            herald.terminate()
        except Exception:
            pass
        pg.stop()


if __name__ == "__main__":
    main()
