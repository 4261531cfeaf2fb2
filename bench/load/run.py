#!/usr/bin/env python3
"""End-to-end load benchmark of heraldd: events accepted, messages created and dispatched (log
gateways), peak RSS, each compared with two baselines measured on the same Postgres in the same run.

Usage (from the repository root, as root or as a user who can run initdb):
    python3 bench/load/run.py                      # 100,000 customers and bill.ready events
    python3 bench/load/run.py --customers 10000    # a quick run
Not a test: it never fails on a number. See bench/README.md.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from herald_e2e import PG_BIN, Api, Heraldd, find_heraldd, free_port, poll, zone_where  # noqa: E402

# Customers live where it is mid-morning now, so no message is held for quiet hours during the run.
ZONE = zone_where(lambda t: 9 <= t.hour < 14)[0]

# ---------------------------------------------------------------- Postgres


class BenchPostgres:
    """A private cluster with durable commits (fsync and synchronous_commit on)."""

    def __init__(self, keep: bool = False, settings: dict | None = None):
        self.settings = dict(settings or {})
        self.parent = tempfile.mkdtemp(prefix="herald-bench-pg-")
        os.chmod(self.parent, 0o755)
        self.dir = os.path.join(self.parent, "pg")
        os.mkdir(self.dir)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.keep = keep

    def _as_pg(self, args, **kw):
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)

    def start(self) -> "BenchPostgres":
        self._as_pg([f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres"])
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                "-c shared_buffers=256MB -c fsync=on -c synchronous_commit=on -c max_wal_size=4GB")
        # Settings given on the command line (--pg NAME=VALUE) come last and win.
        opts += "".join(f" -c {k}={v}" for k, v in self.settings.items())
        self._as_pg([f"{PG_BIN}/pg_ctl", "-D", self.data, "-w", "-l", os.path.join(self.dir, "log"), "-o", opts,
                     "start"])
        self.psql("CREATE DATABASE herald", db="postgres")
        return self

    def url(self, db: str = "herald") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def psql(self, sql: str = None, db: str = "herald", file: str = None) -> str:
        args = [f"{PG_BIN}/psql", self.url(db), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
        args += ["-f", file] if file else ["-c", sql]
        out = subprocess.run(args, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"psql: {out.stderr.strip()[:1000]}")
        return out.stdout.strip()

    def watcher(self) -> "PsqlSession":
        return PsqlSession(self.url())

    def stop(self) -> None:
        subprocess.run((["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) +
                       [f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "fast", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not self.keep:
            shutil.rmtree(self.parent, ignore_errors=True)


class PsqlSession:
    """One psql kept open for the progress polls: a new psql each half second would start a
    backend each time, and those start-ups would be counted in the Postgres CPU being measured."""

    def __init__(self, url: str):
        self.proc = subprocess.Popen([f"{PG_BIN}/psql", url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def value(self, sql: str) -> str:
        self.proc.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo __done__\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"psql session ended during: {sql}")
            if line.rstrip("\n") == "__done__":
                return "\n".join(lines)
            lines.append(line.rstrip("\n"))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


# How far the text indexer (migration 0018) runs behind: message ids above its watermark, which
# searches scan instead of reading the trigram index.
INDEX_BEHIND = ("SELECT coalesce((SELECT max(id) FROM herald.messages), 0)"
                " - coalesce((SELECT max(indexed_through) FROM herald.message_text_state), 0)")


class IndexLag:
    """Samples INDEX_BEHIND once a second on its own psql session while a phase runs."""

    def __init__(self, pg: "BenchPostgres"):
        self.session = pg.watcher()
        self.samples: list[int] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.is_set():
            self.samples.append(int(self.session.value(INDEX_BEHIND)))
            self.done.wait(1.0)

    def stop(self) -> int:
        """The most it was behind during the phase."""
        self.done.set()
        self.thread.join()
        self.session.close()
        return max(self.samples, default=0)


def text_indexer_on(pg: "BenchPostgres", env: dict) -> bool:
    return env.get("HERALD_SEARCH_BATCH_SIZE", "") != "0" and \
        pg.psql("SELECT to_regclass('herald.message_text_state') IS NOT NULL") == "t"


# Whether anything is still pending, asked through indexes: a sequential scan of a queue would
# walk every row deleted since the last vacuum before it found a live one.
PENDING_EVENTS = "SELECT EXISTS (SELECT 1 FROM herald.events WHERE status = 'accepted')"
PENDING_MESSAGES = "SELECT EXISTS (SELECT 1 FROM herald.message_queue ORDER BY lane, due_at LIMIT 1)"


# ---------------------------------------------------------------- load


def phone(i: int) -> str:
    return f"+1217{5000000 + i:07d}"


def customer(i: int) -> dict:
    return {"name": f"Customer {i}", "language": "en",
            "accounts": [{"account_id": f"A-{i}", "premise_id": f"P-{i}",
                          "service_address": {"line1": f"{i} Main St", "city": "Springfield", "state": "IL",
                                              "zip": "62701"},
                          "timezone": ZONE, "feeder": f"F-{i % 40}", "segments": []}],
            "contacts": [{"channel": "sms", "address": phone(i)},
                         {"channel": "email", "address": f"customer{i}@example.com"}]}


def _put_customers(args):
    base_url, key, lo, hi, threads = args
    api = Api(base_url, key)

    def put(i):
        r = api.put(f"/v1/customers/C-{i}", customer(i))
        if r.status != 200:
            raise RuntimeError(f"PUT customer {i}: {r}")
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, range(lo, hi), chunksize=64))
    return hi - lo


def load_customers(base_url: str, key: str, n: int, processes: int, threads: int) -> float:
    chunks = [(base_url, key, lo, min(n, lo + 2000), threads) for lo in range(0, n, 2000)]
    started = time.monotonic()
    with multiprocessing.Pool(processes) as pool:
        done = sum(pool.map(_put_customers, chunks))
    assert done == n
    return n / (time.monotonic() - started)


def bill_ready(event_id: str, i: int) -> dict:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return {"event_id": event_id, "type": "bill.ready", "account_id": f"A-{i}",
            "occurred_at": now.isoformat().replace("+00:00", "Z"),
            "data": {"amount_due": f"{20 + i % 180}.{i % 100:02d}",
                     "due_date": (now + datetime.timedelta(days=20)).date().isoformat(),
                     "bill_url": f"https://billing.utility.example/b/{i}"}}


def _post_batches(args):
    base_url, key, batches, prefix, customers = args
    api = Api(base_url, key, timeout=300)
    for lo, hi in batches:
        events = [bill_ready(f"{prefix}-{j}", j % customers) for j in range(lo, hi)]
        r = api.post("/v1/events/batch", {"events": events})
        if r.status not in (200, 207):
            raise RuntimeError(f"POST /v1/events/batch: {r}")
        rejected = [x for x in r.json()["results"] if x["status"] != "accepted"]
        if rejected:
            raise RuntimeError(f"events not accepted: {rejected[:3]}")
    return sum(hi - lo for lo, hi in batches)


def post_events(base_url: str, key: str, n: int, customers: int, prefix: str, concurrency: int) -> tuple[float, float]:
    batches = [(lo, min(n, lo + 1000)) for lo in range(0, n, 1000)]
    parts = [(base_url, key, batches[k::concurrency], prefix, customers) for k in range(concurrency)]
    started = time.monotonic()
    with multiprocessing.Pool(concurrency) as pool:
        done = sum(pool.map(_post_batches, parts))
    assert done == n
    return started, time.monotonic()


def metric_sum(text: str, family: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(family):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? ([0-9.eE+-]+)', line)
        if not m or m.group(1) != family:
            continue
        got = dict(re.findall(r'([a-zA-Z_]+)="([^"]*)"', m.group(3) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(m.group(4))
    return total


def vm_hwm_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _proc_cpu(pid: int, children: bool) -> tuple[int, float]:
    """(parent pid, CPU seconds) from /proc/PID/stat; with children, reaped children's time too."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return int(fields[1]), ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds(heraldd_pid: int, pg: "BenchPostgres") -> dict:
    """CPU used so far by heraldd and by the whole Postgres cluster (postmaster, live backends and
    the backends that have exited). Differences over a phase give CPU per message, which noise
    on a shared machine disturbs far less than wall-clock rates."""
    with open(os.path.join(pg.data, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    total = _proc_cpu(postmaster, children=True)[1]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent, secs = _proc_cpu(int(entry), children=True)
                if parent == postmaster:
                    total += secs
    return {"heraldd": _proc_cpu(heraldd_pid, children=False)[1], "postgres": total}


def cpu_per_message(before: dict, after: dict, messages: int) -> dict:
    return {f"{k}_cpu_us_per_message": (after[k] - before[k]) * 1e6 / messages for k in before}


def stage_rates(pg: BenchPostgres, where: str) -> dict:
    """Rates over each stage's active window, from the timestamps heraldd wrote."""
    row = pg.psql(
        "SELECT count(*), extract(epoch FROM max(created_at) - min(created_at)), "
        "count(*) FILTER (WHERE sent_at IS NOT NULL), extract(epoch FROM max(sent_at) - min(sent_at)), "
        f"avg(pg_column_size(m.*))::int FROM herald.messages m WHERE {where}").split("|")
    n, created_span, sent, sent_span, width = int(row[0]), float(row[1] or 0), int(row[2]), float(row[3] or 0), int(row[4] or 0)
    return {"messages": n, "created_per_s": n / created_span if created_span else float("nan"),
            "sent": sent, "dispatched_per_s": sent / sent_span if sent_span else float("nan"),
            "row_width_bytes": width}


def wait_all_sent(pg: BenchPostgres, expected: int, where: str, timeout: float) -> None:
    watch = pg.watcher()
    try:
        poll(lambda: watch.value(PENDING_EVENTS) == "f" and watch.value(PENDING_MESSAGES) == "f",
             timeout=timeout, interval=0.5, what=f"{expected} messages created and sent")
    finally:
        watch.close()
    total = int(pg.psql(f"SELECT count(*) FROM herald.messages WHERE {where}"))
    if total < expected:
        raise RuntimeError(f"expected {expected} messages, found {total}")


def insert_backlog(pg: BenchPostgres, prefix: str, events: int, customers: int) -> None:
    """bill.ready events inserted straight into herald.events (the direct-intake path)."""
    pg.psql("INSERT INTO herald.events (event_id, type, account_id, occurred_at, data) "
            f"SELECT '{prefix}-' || g, 'bill.ready', 'A-' || (g % {customers}), now(), "
            "jsonb_build_object('amount_due', (20 + g % 180) || '.' || lpad((g % 100)::text, 2, '0'), "
            "'due_date', (current_date + 20)::text, 'bill_url', 'https://billing.utility.example/b/' || g) "
            f"FROM generate_series(0, {events - 1}) g")
    pg.psql("VACUUM ANALYZE herald.events")


# ---------------------------------------------------------------- baselines


def sql_text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


_COLUMNS = ("event_id, customer_id, account_id, contact_id, channel, address, type, topic, language, subject, "
            "body, html, unsubscribe_url, segments, encoding, status, decision")


def _copy_field(v) -> str:
    if v is None:
        return "\\N"
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def baseline_write(pg: BenchPostgres, rows: int, work: str) -> dict:
    """Multi-row INSERT of rows as wide as the messages heraldd wrote (copied from real ones), 1,000 rows
    per statement and per commit, into a table like herald.messages (columns, indexes, storage, compression).
    Also the same rows by one COPY, the bulk-load ceiling, for context."""
    pg.psql("DROP SCHEMA IF EXISTS bl CASCADE; CREATE SCHEMA bl; "
            "CREATE TABLE bl.messages (LIKE herald.messages INCLUDING ALL)")
    sample = json.loads(pg.psql(
        f"SELECT json_agg(s) FROM (SELECT {_COLUMNS.replace('decision', 'decision::text AS decision')} "
        "FROM herald.messages ORDER BY id LIMIT 20) s"))
    names = [c.strip() for c in _COLUMNS.split(",")]

    def row(i):
        m = dict(sample[i % len(sample)], event_id=f"bl-{i}", status="queued")
        return [m[n] for n in names]

    lines = []
    for lo in range(0, rows, 1000):
        values = []
        for i in range(lo, min(rows, lo + 1000)):
            values.append("(" + ",".join("NULL" if v is None else str(v) if isinstance(v, int) else sql_text(v)
                                         for v in row(i)) + ",now())")
        lines.append(f"INSERT INTO bl.messages ({_COLUMNS}, not_before) VALUES " + ",".join(values) + ";")
    path = os.path.join(work, "baseline_write.sql")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    pg.psql("CHECKPOINT")
    started = time.monotonic()
    pg.psql(file=path)
    insert_rate = rows / (time.monotonic() - started)
    os.unlink(path)

    path = os.path.join(work, "baseline_write.tsv")
    with open(path, "w") as f:
        for i in range(rows):
            f.write("\t".join(_copy_field(v) for v in row(i)) + "\n")
    pg.psql("TRUNCATE bl.messages")
    pg.psql("CHECKPOINT")
    started = time.monotonic()
    pg.psql(f"\\copy bl.messages ({_COLUMNS}) FROM '{path}'")
    copy_rate = rows / (time.monotonic() - started)
    os.unlink(path)
    return {"insert": insert_rate, "copy": copy_rate}


def baseline_bookkeeping(pg: BenchPostgres, rows: int, work: str) -> float:
    """SQL-only loop over the plainest Postgres outbox, one table with a partial index on what is due:
    claim 1,000 due rows FOR UPDATE SKIP LOCKED and lease them (one commit), then mark them sent
    (another commit), until none is left."""
    pg.psql("DROP TABLE IF EXISTS bl.outbox; "
            "CREATE TABLE bl.outbox (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, address text NOT NULL, "
            "body text NOT NULL, status text NOT NULL, due_at timestamptz, lease_owner text, "
            "attempts integer NOT NULL DEFAULT 0, provider_id text, sent_at timestamptz, "
            "updated_at timestamptz NOT NULL DEFAULT now()); "
            "CREATE INDEX outbox_due ON bl.outbox (due_at) WHERE status IN ('queued', 'sending'); "
            "INSERT INTO bl.outbox (address, body, status, due_at) SELECT '+1217' || (5000000 + g), "
            f"repeat('x', 120), 'queued', now() - interval '1 minute' FROM generate_series(1, {rows}) g")
    pg.psql("VACUUM ANALYZE bl.outbox")
    claim = ("WITH c AS (SELECT id FROM bl.outbox WHERE status IN ('queued', 'sending') "
             "AND due_at <= now() ORDER BY due_at LIMIT 1000 FOR UPDATE SKIP LOCKED), "
             "u AS (UPDATE bl.outbox o SET status = 'sending', lease_owner = 'bench', "
             "due_at = now() + interval '30 seconds', attempts = o.attempts + 1, updated_at = now() "
             "FROM c WHERE o.id = c.id RETURNING o.id, o.address, o.body) "
             "SELECT coalesce(array_agg(id), '{}')::text AS ids FROM u \\gset\n")
    mark = ("UPDATE bl.outbox SET status = 'sent', sent_at = now(), updated_at = now(), lease_owner = NULL, "
            "due_at = NULL, provider_id = 'log-' || id WHERE id = ANY(:'ids'::bigint[]);\n")
    path = os.path.join(work, "baseline_bookkeeping.sql")
    with open(path, "w") as f:
        f.write((claim + mark) * (rows // 1000 + (1 if rows % 1000 else 0)))
    started = time.monotonic()
    pg.psql(file=path)
    elapsed = time.monotonic() - started
    os.unlink(path)
    left = int(pg.psql("SELECT count(*) FROM bl.outbox WHERE status <> 'sent'"))
    if left:
        raise RuntimeError(f"bookkeeping baseline left {left} rows unsent")
    return rows / elapsed


def add_pg_option(ap: argparse.ArgumentParser) -> None:
    """--pg NAME=VALUE: a setting of the private cluster, over the defaults above (repeatable)."""
    ap.add_argument("--pg", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting of the private Postgres (repeatable), e.g. --pg shared_buffers=4GB")


def key_values(pairs: list[str], option: str, example: str, empty_values: bool = False) -> dict:
    """NAME=VALUE items of a repeatable option as a dict; a malformed one ends the run naming it."""
    out = {}
    for kv in pairs:
        name, sep, value = kv.partition("=")
        if not sep or not name or (not value and not empty_values):
            sys.exit(f"{option} {kv!r}: expected NAME=VALUE, e.g. {example}")
        out[name] = value
    return out


def pg_settings(pairs: list[str]) -> dict:
    return key_values(pairs, "--pg", "shared_buffers=4GB")


def heraldd_env(pairs: list[str]) -> dict:
    """--env KEY=VALUE items (an empty value sets the variable empty)."""
    return key_values(pairs, "--env", "HERALD_SERVER_LOG_LEVEL=debug", empty_values=True)


# ---------------------------------------------------------------- main


def find_binary(explicit: str | None) -> str:
    try:
        return find_heraldd(explicit)
    except RuntimeError as e:
        sys.exit(f"{e}; or pass --heraldd")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=None, help="bill.ready events (default: one per customer)")
    ap.add_argument("--heraldd", help="heraldd binary (default: $HERALD_BIN, else $HERALD_BUILD_DIR/src/app/heraldd, "
                                       "else build/src/app/heraldd, else the newest build*/src/app/heraldd)")
    ap.add_argument("--clients", type=int, default=4, help="client processes loading customers and events")
    ap.add_argument("--no-backlog", action="store_true",
                    help="skip phase 5 (events inserted while heraldd is down, then drained)")
    ap.add_argument("--baseline-rows", type=int, default=100_000)
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra heraldd environment")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--keep", action="store_true", help="keep the Postgres cluster and logs")
    add_pg_option(ap)
    args = ap.parse_args()
    events = args.events or args.customers
    binary = find_binary(args.heraldd)
    work = tempfile.mkdtemp(prefix="herald-bench-")
    results: dict = {"customers": args.customers, "events": events, "binary": binary, "timezone": ZONE,
                     "cpus": os.cpu_count(), "started": datetime.datetime.now().isoformat(timespec="seconds")}

    pg = BenchPostgres(keep=args.keep, settings=pg_settings(args.pg)).start()
    env = {"HERALD_CHANNELS_SMS": "log", "HERALD_CHANNELS_EMAIL": "log", "HERALD_CHANNELS_VOICE": "log",
           "HERALD_GATEWAYS_LOG_RATE_PER_SECOND": "10000000", "HERALD_GATEWAYS_LOG_BURST": "10000000",
           "HERALD_SERVER_LOG_LEVEL": "warn"}
    env.update(heraldd_env(args.env))
    herald = Heraldd(binary, pg.url(), env)
    peak_kb = 0
    try:
        herald.migrate()
        herald.provision_keys()
        herald.start()
        print(f"heraldd pid {herald.pid} on {herald.base_url}; postgres on port {pg.port}; log {herald.log_path}",
              flush=True)

        rate = load_customers(herald.base_url, herald.cis_key, args.customers, args.clients, 8)
        results["customers_per_s"] = rate
        print(f"customers loaded: {args.customers} at {rate:,.0f}/s", flush=True)

        # Phases 1-3 take the run one stage at a time, each alone on the machine: the events
        # are accepted by an API-only instance, turned into messages by an intake-only one and sent
        # by a dispatch-only one. Phases 4 and 5 then run everything together.
        def restart(**workers):
            rc = herald.terminate(timeout=120)
            for key in ("HERALD_INTAKE_WORKERS", "HERALD_DISPATCH_WORKERS"):
                herald.env.pop(key, None)
            herald.env.update({f"HERALD_{k.upper()}_WORKERS": str(v) for k, v in workers.items()})
            herald.start(timeout=120)
            return rc

        # Phase 1: events accepted over the API (intake.workers = dispatch.workers = 0).
        restart(intake=0, dispatch=0)
        t0, t1 = post_events(herald.base_url, herald.cis_key, events, args.customers, "p1", args.clients)
        results["events_accepted_per_s"] = events / (t1 - t0)
        print(f"phase 1 (API only): {events} events accepted in {t1 - t0:.2f} s = {events / (t1 - t0):,.0f}/s",
              flush=True)
        peak_kb = max(peak_kb, vm_hwm_kb(herald.pid))
        pg.psql("VACUUM ANALYZE herald.events")

        # Phase 2: intake alone turns them into messages (dispatch.workers = 0).
        restart(dispatch=0)
        indexing = text_indexer_on(pg, herald.env)
        lag = IndexLag(pg) if indexing else None
        cpu_before = cpu_seconds(herald.pid, pg)
        watch = pg.watcher()
        poll(lambda: watch.value(PENDING_EVENTS) == "f", timeout=1800, interval=0.5,
             what=f"{events} events taken by intake")
        watch.close()
        cpu_after = cpu_seconds(herald.pid, pg)
        p2 = stage_rates(pg, "event_id LIKE 'p1-%'")
        results["phase2"] = {"messages": p2["messages"], "created_per_s": p2["created_per_s"],
                             "row_width_bytes": p2["row_width_bytes"],
                             **cpu_per_message(cpu_before, cpu_after, p2["messages"])}
        peak_kb = max(peak_kb, vm_hwm_kb(herald.pid))
        if lag:
            results["phase2"]["index_behind_max"] = lag.stop()
        print(f"phase 2 (intake only): {results['phase2']}", flush=True)

        # Phase 3: dispatch alone sends them (intake.workers = 0).
        pg.psql("VACUUM ANALYZE herald.messages")
        restart(intake=0)
        lag = IndexLag(pg) if indexing else None
        started = time.monotonic()
        cpu_before = cpu_seconds(herald.pid, pg)
        wait_all_sent(pg, 2 * events, "event_id LIKE 'p1-%'", timeout=1800)
        cpu_after = cpu_seconds(herald.pid, pg)
        p3 = stage_rates(pg, "event_id LIKE 'p1-%'")
        results["phase3"] = {"messages": p3["sent"], "dispatched_per_s": p3["dispatched_per_s"],
                             "end_to_end_per_s": p3["sent"] / (time.monotonic() - started),
                             **cpu_per_message(cpu_before, cpu_after, p3["sent"])}
        peak_kb = max(peak_kb, vm_hwm_kb(herald.pid))
        if lag:
            results["phase3"]["index_behind_max"] = lag.stop()
        print(f"phase 3 (dispatch only): {results['phase3']}", flush=True)

        # Phase 4: as many events again over the API, with intake and dispatch running alongside.
        restart()
        lag = IndexLag(pg) if indexing else None
        t0, t1 = post_events(herald.base_url, herald.cis_key, events, args.customers, "p4", args.clients)
        p4_accepted = events / (t1 - t0)
        print(f"phase 4 (all together): {events} events accepted in {t1 - t0:.2f} s = {p4_accepted:,.0f}/s",
              flush=True)
        wait_all_sent(pg, 2 * events, "event_id LIKE 'p4-%'", timeout=1800)
        drained = time.monotonic()
        p4 = stage_rates(pg, "event_id LIKE 'p4-%'")
        p4["events_accepted_per_s"] = p4_accepted
        p4["end_to_end_per_s"] = p4["messages"] / (drained - t0)
        metrics = herald.public.get("/metrics").text
        p4["metrics_dispatched_sent"] = metric_sum(metrics, "herald_messages_dispatched_total", outcome="sent")
        results["phase4"] = p4
        if lag:
            p4["index_behind_max"] = lag.stop()
            # The indexer catching up once the burst is over: its rate with the machine to itself.
            behind = int(pg.psql(INDEX_BEHIND))
            caught_up = time.monotonic()
            poll(lambda: int(pg.psql(INDEX_BEHIND)) <= 0, timeout=1800, interval=0.5, what="text indexer caught up")
            took = time.monotonic() - caught_up
            p4["index_behind_when_drained"] = behind
            p4["index_catch_up_s"] = took
            p4["index_catch_up_per_s"] = behind / took if took > 0 else float("nan")
        peak_kb = max(peak_kb, vm_hwm_kb(herald.pid))
        print(f"phase 4 (all together): {p4}", flush=True)

        if not args.no_backlog:
            # Phase 5: a backlog inserted straight into herald.events while heraldd is down, then
            # drained by intake and dispatch side by side at their own speed.
            rc = herald.terminate(timeout=120)
            print(f"heraldd stopped (exit {rc}); inserting {events} events directly", flush=True)
            insert_backlog(pg, "p5", events, args.customers)
            started = time.monotonic()
            herald.start(timeout=120)
            wait_all_sent(pg, 2 * events, "event_id LIKE 'p5-%'", timeout=1800)
            p5 = stage_rates(pg, "event_id LIKE 'p5-%'")
            p5["end_to_end_per_s"] = p5["messages"] / (time.monotonic() - started)
            results["phase5"] = p5
            peak_kb = max(peak_kb, vm_hwm_kb(herald.pid))
            print(f"phase 5 (backlog, all together): {p5}", flush=True)
        rc = herald.terminate(timeout=120)
        results["heraldd_exit"] = rc
        results["peak_rss_mb"] = peak_kb / 1024

        print("baselines on the same Postgres...", flush=True)
        write = baseline_write(pg, args.baseline_rows, work)
        results["baseline_write_rows_per_s"] = write["insert"]
        results["baseline_copy_rows_per_s"] = write["copy"]
        results["baseline_bookkeeping_rows_per_s"] = baseline_bookkeeping(pg, args.baseline_rows, work)
    finally:
        if herald.running:
            herald.terminate(timeout=120)
        pg.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            with contextlib.suppress(OSError):
                os.unlink(herald.log_path)

    report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


def report(r: dict) -> None:
    w, b = r["baseline_write_rows_per_s"], r["baseline_bookkeeping_rows_per_s"]
    print()
    print(f"Herald load benchmark: {r['customers']:,} customers, {r['events']:,} bill.ready events "
          f"(sms + email each), {r['cpus']} CPUs")
    print(f"{'':58}{'rate/s':>12}{'÷ write':>10}{'÷ bookkeeping':>15}")

    def row(label, v):
        print(f"{label:58}{v:>12,.0f}{v / w:>10.2f}{v / b:>15.2f}")
    row("customers loaded (PUT /v1/customers)", r["customers_per_s"])
    row("events accepted, API only (POST /v1/events/batch)", r["events_accepted_per_s"])
    row("messages created, intake only", r["phase2"]["created_per_s"])
    row("messages dispatched, dispatch only (log gateway)", r["phase3"]["dispatched_per_s"])
    for phase, label in (("phase4", "all together, API"), ("phase5", "all together, backlog")):
        if phase in r:
            p = r[phase]
            if "events_accepted_per_s" in p:
                row(f"events accepted ({label})", p["events_accepted_per_s"])
            row(f"messages created ({label})", p["created_per_s"])
            row(f"messages dispatched ({label})", p["dispatched_per_s"])
            row(f"messages end to end ({label})", p["end_to_end_per_s"])
    row("baseline: multi-row INSERT of message-wide rows", w)
    row("baseline: SQL claim 1000 SKIP LOCKED + lease + sent", b)
    row("(context) one COPY of the same message-wide rows", r["baseline_copy_rows_per_s"])
    for phase, label in (("phase2", "intake only"), ("phase3", "dispatch only")):
        p = r[phase]
        print(f"CPU per message, {label}: heraldd {p['heraldd_cpu_us_per_message']:.0f} µs, "
              f"Postgres {p['postgres_cpu_us_per_message']:.0f} µs")
    if "index_behind_max" in r["phase2"]:
        p4 = r["phase4"]
        print(f"text indexer, most message ids behind: intake only {r['phase2']['index_behind_max']:,}, "
              f"dispatch only {r['phase3']['index_behind_max']:,}, all together {p4['index_behind_max']:,}; "
              f"{p4['index_behind_when_drained']:,} behind when phase 4 drained, caught up in "
              f"{p4['index_catch_up_s']:.1f} s = {p4['index_catch_up_per_s']:,.0f} messages/s")
    else:
        print("text indexer: off")
    print(f"heraldd peak RSS (VmHWM): {r['peak_rss_mb']:.0f} MB; exit code after SIGTERM: {r['heraldd_exit']}")
    print(f"average message row: {r['phase2']['row_width_bytes']} bytes")


if __name__ == "__main__":
    main()
