#!/usr/bin/env python3
"""Storm benchmark: a million customers loaded with `heraldd import-customers`, then one outage over
all their premises (PUT /v1/outages/{id}); the time from the PUT to every message created and to every
message dispatched through unlimited `log` gateways, heraldd's RSS sampled every second, and the API
(GET /v1/customers/{id}/preferences) idle and during the storm. Baselines measured on the same
Postgres in the same run: a raw INSERT ... SELECT of as many message-wide rows into a table of
herald.messages' shape, and the raw COPY of the imported rows (bench/import).

Usage (from the repository root, as root or as a user who can run initdb):
    python3 bench/storm/run.py                        # 1,000,000 customers
    python3 bench/storm/run.py --customers 20000      # a smoke run
Not a test: it never fails on a number. See bench/README.md.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "bench", "load"))

from herald_e2e import PG_BIN, Api, Heraldd, find_heraldd  # noqa: E402
from run import BenchPostgres, add_pg_option, heraldd_env, pg_settings  # noqa: E402  (bench/load/run.py: a private durable cluster)


def _load(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_import = _load("bench_import", os.path.join(ROOT, "bench", "import", "run.py"))
cpu_profile = _load("cpu_profile", os.path.join(HERE, "cpu_profile.py"))


class ProfiledPostgres(BenchPostgres):
    """The same cluster with pg_stat_statements preloaded (--profile)."""

    SETTINGS = ("shared_preload_libraries = 'pg_stat_statements'\n"
                "pg_stat_statements.track = 'all'\npg_stat_statements.max = 2000\n")

    def start(self) -> "ProfiledPostgres":
        super().start()
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
            f.write(self.SETTINGS)
        self._as_pg([f"{PG_BIN}/pg_ctl", "-D", self.data, "-w", "-m", "fast", "restart"])
        self.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        return self


class RssSampler:
    """VmRSS of a process once a second, in a thread; peak and samples kept."""

    def __init__(self, pid: int):
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss_kb(self) -> int:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - start, self._rss_kb()))
            self._stop.wait(1.0)

    def start(self) -> "RssSampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return max((kb for _, kb in self.samples), default=0) / 1024


def latencies(api: Api, customers: int, stop: threading.Event | None = None, count: int | None = None,
              seed: int = 1) -> list[float]:
    """GET /v1/customers/{id}/preferences of random customers, one after another, in ms: `count` of them,
    or until `stop` is set."""
    rng = random.Random(seed)
    out = []
    while (count is not None and len(out) < count) or (stop is not None and not stop.is_set()):
        cid = f"C{rng.randrange(customers):07d}"
        t = time.perf_counter()
        r = api.get(f"/v1/customers/{cid}/preferences")
        out.append((time.perf_counter() - t) * 1000)
        if r.status != 200:
            raise RuntimeError(f"preferences of {cid}: {r}")
        if stop is not None:
            time.sleep(0.01)  # a steady trickle, not a load test of its own
    return out


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


MESSAGE_WIDE = ("event_id, customer_id, account_id, contact_id, channel, address, type, topic, language, subject, "
                "body, html, unsubscribe_url, segments, encoding, status, decision")


def raw_insert_select(pg: BenchPostgres, rows: int) -> float:
    """INSERT ... SELECT of `rows` message-wide rows (an outage text, a decision record) in one statement
    into a table like herald.messages (columns, indexes, storage, compression, fillfactor); seconds."""
    pg.psql("DROP SCHEMA IF EXISTS bl CASCADE; CREATE SCHEMA bl; "
            "CREATE TABLE bl.messages (LIKE herald.messages INCLUDING ALL)")
    # LIKE copies no storage parameters: the same fillfactor (0021) as herald.messages, so the
    # raw insert fills pages as the fan-out does.
    options = pg.psql("SELECT array_to_string(reloptions, ', ') FROM pg_class WHERE oid = 'herald.messages'::regclass")
    if options:
        pg.psql(f"ALTER TABLE bl.messages SET ({options})")
    pg.psql("CHECKPOINT")
    started = time.monotonic()
    pg.psql(f"INSERT INTO bl.messages ({MESSAGE_WIDE}) SELECT 'outage-storm', 'C' || lpad(g::text, 7, '0'),"
            " 'A' || lpad(g::text, 7, '0'), g, CASE WHEN g % 2 = 0 THEN 'sms' ELSE 'voice' END,"
            " '+1217' || (2000000 + g / 2), 'outage.confirmed', 'outage', 'en', '',"
            " 'Springfield Utilities: power is out at ' || (g % 9000 + 1) || ' Main St (storm). We expect it back"
            " by 6:00 PM. Reply OUT to report, STOP to opt out.', '', '', 1, 'gsm7', 'queued',"
            " jsonb_build_object('rule', 'outage', 'channel', 'sms', 'reason', 'subscribed', 'quiet_hours', false,"
            " 'segment', g % 400)"
            f" FROM generate_series(1, {rows}) g")
    seconds = time.monotonic() - started
    pg.psql("DROP SCHEMA bl CASCADE")
    return seconds


def perf_start(path: str | None) -> subprocess.Popen | None:
    """A whole-machine `perf record -g` into `path` (None: none), recording once this returns."""
    if not path:
        return None
    perf = subprocess.Popen(["perf", "record", "-a", "-g", "-F", "499", "-o", path, "--", "sleep", "100000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # perf has opened its buffers
    return perf


def perf_stop(perf: subprocess.Popen | None) -> None:
    if perf is not None:
        perf.send_signal(signal.SIGINT)
        perf.wait(timeout=300)


def wait_storm(pg: BenchPostgres, started_wall: float, timeout: float, dispatching: bool = True) -> dict:
    """Polls until every message is out of the queue (when dispatching) and their count has stopped growing; returns the
    seconds from the PUT to the last message created and to the last one sent (the database's own
    timestamps), and the counts."""
    deadline = time.monotonic() + timeout
    last_count, stable_since = -1, time.monotonic()
    # A chunk's messages carry the clock of the step that wrote them (its start), so max(created_at)
    # can be up to one chunk's time before the last chunk committed; the poll also notes when it
    # first saw the final count (at most one poll interval late).
    last_growth_wall = float("nan")
    # The poll reads only index ends and one small table, on one open session: a count(*) of
    # herald.messages every half second scanned the whole table (millions of rows, with parallel
    # workers) and a psql per poll started a backend each time, and both were counted in the
    # storm's CPU.
    watcher = pg.watcher()
    try:
        while time.monotonic() < deadline:
            # An outage notice still being written (done_at unset) means more chunks are coming, however
            # long the fan-out pauses between them.
            row = watcher.value("SELECT (SELECT coalesce(max(id), 0) FROM herald.messages),"
                                " EXISTS (SELECT 1 FROM herald.message_queue),"
                                " (SELECT count(*) FROM herald.outage_notices WHERE done_at IS NULL)")
            newest, queued, writing = row.split("|")
            count = int(newest)
            if count != last_count:
                last_count, stable_since, last_growth_wall = count, time.monotonic(), time.time()
            if (count > 0 and (queued == "f" or not dispatching) and int(writing) == 0
                    and time.monotonic() - stable_since >= 5):
                break
            time.sleep(0.5)
    finally:
        watcher.close()
    stats = pg.psql("SELECT count(*), count(*) FILTER (WHERE status IN ('sent', 'delivered')),"
                    " extract(epoch FROM max(created_at)), extract(epoch FROM max(sent_at)),"
                    " extract(epoch FROM min(created_at)), extract(epoch FROM min(sent_at))"
                    " FROM herald.messages")
    total, sent, last_created, last_sent, first_created, first_sent = stats.split("|")
    f = lambda v: float(v) - started_wall if v else float("nan")  # noqa: E731
    # When half and nine in ten of the messages sent had gone out: what the customers waited, which
    # the last one alone does not tell (a sort of the sent stamps, after the storm).
    half, ninety = pg.psql("SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY sent_at),"
                           " percentile_disc(0.9) WITHIN GROUP (ORDER BY sent_at)"
                           " FROM (SELECT extract(epoch FROM sent_at) AS sent_at FROM herald.messages"
                           " WHERE sent_at IS NOT NULL) s").split("|")
    by = pg.psql("SELECT string_agg(channel || ' ' || status || ' ' || n, ', ') FROM "
                 "(SELECT channel, status, count(*) n FROM herald.messages GROUP BY 1, 2 ORDER BY 1, 2) s")
    return {"messages": int(total), "sent": int(sent), "to_created": f(last_created), "to_sent": f(last_sent),
            "to_created_seen": last_growth_wall - started_wall,
            "first_created": f(first_created), "first_sent": f(first_sent), "half_sent": f(half),
            "ninety_sent": f(ninety), "by_channel_status": by,
            "timed_out": time.monotonic() >= deadline}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--affected", choices=["feeders", "premises"], default="feeders",
                    help="name the outage's area by every feeder (400 ids) or by every premise id")
    ap.add_argument("--idle-requests", type=int, default=2000)
    ap.add_argument("--baseline-rows", type=int, default=None,
                    help="rows of the raw INSERT ... SELECT (default: two per customer, the sms and voice"
                         " messages the default outage preferences make)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--heraldd", default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--no-dispatch", action="store_true",
                    help="run heraldd without dispatch workers: the creation time of the fan-out alone")
    ap.add_argument("--profile", action="store_true",
                    help="load pg_stat_statements and print where the storm's CPU went: heraldd per thread,"
                         " Postgres per process kind and per component (bench/storm/cpu_profile.py)")
    ap.add_argument("--perf", metavar="FILE", default=None,
                    help="record a whole-machine `perf record -g` from the PUT to the storm's end into FILE"
                         " (read it with `perf report -i FILE --sort comm,dso,sym`)")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra heraldd environment")
    add_pg_option(ap)
    a = ap.parse_args()

    pg = (ProfiledPostgres if a.profile else BenchPostgres)(keep=a.keep, settings=pg_settings(a.pg)).start()
    work = tempfile.mkdtemp(prefix="herald-bench-storm-")
    herald = None
    results: dict = {"customers": a.customers}
    try:
        env = {"HERALD_CHANNELS_SMS": "log", "HERALD_CHANNELS_EMAIL": "log", "HERALD_CHANNELS_VOICE": "log",
               "HERALD_GATEWAYS_LOG_RATE_PER_SECOND": "10000000", "HERALD_GATEWAYS_LOG_BURST": "10000000",
               "HERALD_HTTP_BODY_LIMIT": str(64 << 20), "HERALD_SERVER_LOG_LEVEL": "warn"}
        if a.no_dispatch:
            env["HERALD_DISPATCH_WORKERS"] = "0"
        env.update(heraldd_env(a.env))
        herald = Heraldd(find_heraldd(a.heraldd), pg.url(), env)
        herald.migrate()
        herald.provision_keys()

        path = os.path.join(work, "customers.jsonl")
        bench_import.write_customers(path, a.customers)
        print(f"importing {a.customers:,} customers...", flush=True)
        imp = bench_import.run_import(herald, path)
        results["import_per_s"] = imp["loaded"] / imp["seconds"]
        print(f"import-customers: {imp['summary']}", flush=True)
        os.unlink(path)
        pg.psql("VACUUM ANALYZE")

        results["baseline_rows"] = a.baseline_rows or 2 * a.customers
        results["raw_insert_s"] = raw_insert_select(pg, results["baseline_rows"])
        print(f"baseline: INSERT ... SELECT of {results['baseline_rows']:,} message-wide rows:"
              f" {results['raw_insert_s']:.1f} s", flush=True)
        pg.psql("CHECKPOINT")

        herald.start(timeout=120)
        rss = RssSampler(herald.pid).start()
        api = Api(herald.base_url, herald.cis_key)
        idle = latencies(api, a.customers, count=a.idle_requests)
        results["idle_p50"], results["idle_p99"] = pct(idle, 50), pct(idle, 99)

        if a.affected == "feeders":
            affected = {"feeders": [f"F-{i}" for i in range(400)], "premise_ids": [], "zips": []}
        else:
            affected = {"premise_ids": [f"P{i:07d}" for i in range(a.customers)], "feeders": [], "zips": []}
        outage = {"status": "confirmed", "kind": "unplanned", "cause": "storm", "etr": None, "affected": affected,
                  "planned_start": None, "planned_end": None}
        stop = threading.Event()
        during: list[float] = []
        prober = threading.Thread(target=lambda: during.extend(latencies(Api(herald.base_url, herald.cis_key),
                                                                         a.customers, stop=stop, seed=2)))
        if a.profile:
            pg.psql("SELECT pg_stat_statements_reset()")
            cpu_before = cpu_profile.snapshot(herald.pid, pg.data)
            vacuums_before = dict(line.split("|", 1) for line in pg.psql(cpu_profile.VACUUMS).splitlines())
        perf = perf_start(a.perf)
        started_wall = time.time()
        r = api.put("/v1/outages/storm-1", outage)
        results["put_s"] = time.time() - started_wall
        if r.status not in (200, 201, 202):
            raise RuntimeError(f"PUT /v1/outages/storm-1: {r}")
        prober.start()
        storm = wait_storm(pg, started_wall, a.timeout, dispatching=not a.no_dispatch)
        perf_stop(perf)
        if a.profile:
            cpu_after = cpu_profile.snapshot(herald.pid, pg.data)
            results["profile"] = cpu_profile.report(cpu_before, cpu_after, cpu_profile.statements(pg),
                                                    storm["messages"], time.time() - started_wall)
            behind = pg.psql("SELECT (SELECT coalesce(max(id), 0) FROM herald.messages) - indexed_through"
                             " FROM herald.message_text_state")
            results["profile"].append(f"  messages not yet in the text index at the end: {behind}")
            results["profile"].append("  autovacuum, autoanalyze runs during the storm: " + ", ".join(
                f"{rel} {counts} (before {vacuums_before.get(rel, '0|0')})"
                for rel, counts in (line.split("|", 1) for line in pg.psql(cpu_profile.VACUUMS).splitlines())
                if counts != vacuums_before.get(rel, "0|0")))
        stop.set()
        prober.join()
        rss.stop()
        results.update(storm)
        results["storm_p50"], results["storm_p99"] = pct(during, 50), pct(during, 99)
        results["storm_requests"] = len(during)
        results["peak_rss_mb"] = rss.peak_mb
        results["heraldd_exit"] = herald.terminate(timeout=120)
    finally:
        if herald is not None and herald.running:
            herald.terminate(timeout=120)
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)

    report(results)
    return 0


def report(r: dict) -> None:
    print()
    print(f"Herald storm benchmark: {r['customers']:,} customers, one outage over all their premises")
    print(f"import-customers:                       {r['import_per_s']:10,.0f} customers/s")
    print(f"PUT /v1/outages answered in:            {r['put_s']:10.2f} s")
    print(f"messages: {r['messages']:,} ({r['by_channel_status']})")
    print(f"PUT -> first message created / sent:    {r['first_created']:10.1f} s / {r['first_sent']:.1f} s"
          " (created: the clock of the outage step that wrote it)")
    # The later of the messages' own stamp and the poll's sighting of the last commit: the
    # ratio below is never flattered by the step clock of the last chunk.
    created = max(r["to_created"], r["to_created_seen"])  # max(x, nan) is x: no sighting if the poll never ran
    print(f"PUT -> all messages created:            {created:10.1f} s (last created_at {r['to_created']:.1f} s,"
          f" last commit seen by the 0.5 s poll {r['to_created_seen']:.1f} s)")
    raw_rate = r["baseline_rows"] / r["raw_insert_s"]
    created_rate = r["messages"] / created if created > 0 else float("nan")
    print(f"raw INSERT ... SELECT of {r['baseline_rows']:,} message-wide rows: {r['raw_insert_s']:.1f} s"
          f" ({raw_rate:,.0f} rows/s); messages created {created_rate:,.0f}/s"
          f" -> creation time / raw insert time for as many rows: {raw_rate / created_rate:.2f}x (target <= 2x)")
    print(f"PUT -> half / 90 % of the sent ones out: {r['half_sent']:9.1f} s / {r['ninety_sent']:.1f} s")
    print(f"PUT -> all messages dispatched (log):   {r['to_sent']:10.1f} s (target <= 120 s)")
    print(f"heraldd peak RSS (sampled each second): {r['peak_rss_mb']:10.0f} MB (target <= 150 MB)")
    print(f"GET /v1/customers/{{id}}/preferences p50 / p99: idle {r['idle_p50']:.1f} / {r['idle_p99']:.1f} ms,"
          f" storm {r['storm_p50']:.1f} / {r['storm_p99']:.1f} ms ({r['storm_requests']} requests)"
          f" -> ratio p50 {r['storm_p50'] / r['idle_p50']:.2f}x, p99 {r['storm_p99'] / r['idle_p99']:.2f}x"
          " (target <= 2x)")
    if r.get("timed_out"):
        print("WARNING: the storm did not finish within --timeout; the times above are of what was done")
    print(f"heraldd exit code after SIGTERM: {r['heraldd_exit']}")
    print(f"load average at the end: {os.getloadavg()}")
    for line in r.get("profile", []):
        print(line)


if __name__ == "__main__":
    sys.exit(main())
