#!/usr/bin/env python3
"""Where dispatch's Postgres time goes during a storm: an outage's messages are created with the
dispatchers off, then heraldd sends them alone (no fan-out, no intake) on a private cluster with
pg_stat_statements loaded. Prints messages/s, CPU per message (heraldd and the whole Postgres
cluster, from /proc) and the statements by total execution time, with calls, rows, blocks and
WAL per message.

Usage (from the repository root, as root or as a user who can run initdb):
    python3 bench/storm/dispatch_profile.py --customers 20000
    python3 bench/storm/dispatch_profile.py --customers 20000 --env HERALD_SEARCH_BATCH_SIZE=0
Not a test: it never fails on a number. See bench/README.md.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("storm_run", os.path.join(HERE, "run.py"))
storm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(storm)  # bench/storm/run.py: its setup and helpers
Api, Heraldd, find_heraldd, BenchPostgres = storm.Api, storm.Heraldd, storm.find_heraldd, storm.BenchPostgres
bench_import = storm.bench_import
cpu_seconds = sys.modules["run"].cpu_seconds  # bench/load/run.py, imported by bench/storm/run.py


class ProfiledPostgres(storm.ProfiledPostgres):
    """The storm's profiled cluster, with planning and I/O times tracked too."""

    SETTINGS = storm.ProfiledPostgres.SETTINGS + "pg_stat_statements.track_planning = on\ntrack_io_timing = on\n"


def wait_queue(pg: BenchPostgres, predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise RuntimeError(f"timed out waiting for {what}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra heraldd environment "
                    "for the dispatch phase")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--together", action="store_true", help="profile the whole storm (fan-out and dispatch at"
                    " once, as bench/storm/run.py runs it) instead of dispatch alone")
    ap.add_argument("--heraldd", default=None)
    ap.add_argument("--keep", action="store_true")
    storm.add_pg_option(ap)
    ap.add_argument("--perf", metavar="FILE", default=None,
                    help="record a whole-machine `perf record -g` of the dispatch phase into FILE")
    a = ap.parse_args()

    pg = ProfiledPostgres(keep=a.keep, settings=storm.pg_settings(a.pg)).start()
    work = tempfile.mkdtemp(prefix="herald-bench-dispatch-")
    herald = None
    try:
        env = {"HERALD_CHANNELS_SMS": "log", "HERALD_CHANNELS_EMAIL": "log", "HERALD_CHANNELS_VOICE": "log",
               "HERALD_GATEWAYS_LOG_RATE_PER_SECOND": "10000000", "HERALD_GATEWAYS_LOG_BURST": "10000000",
               "HERALD_SERVER_LOG_LEVEL": "warn"}
        # The extra environment goes to every heraldd run (a migrations directory, say), and the
        # fan-out's instance sends nothing whatever it says.
        extra = storm.heraldd_env(a.env)
        herald = Heraldd(find_heraldd(a.heraldd), pg.url(), {**env, **extra, "HERALD_DISPATCH_WORKERS": "0"})
        herald.migrate()
        herald.provision_keys()
        path = os.path.join(work, "customers.jsonl")
        bench_import.write_customers(path, a.customers)
        bench_import.run_import(herald, path)
        os.unlink(path)

        expected = 2 * a.customers
        outage = {"status": "confirmed", "kind": "unplanned", "cause": "storm", "etr": None,
                  "affected": {"feeders": [f"F-{i}" for i in range(400)], "premise_ids": [], "zips": []},
                  "planned_start": None, "planned_end": None}
        pg.psql("VACUUM ANALYZE")
        if not a.together:
            herald.start(timeout=120)
            r = Api(herald.base_url, herald.cis_key).put("/v1/outages/storm-1", outage)
            if r.status not in (200, 201, 202):
                raise RuntimeError(f"PUT /v1/outages/storm-1: {r}")
            wait_queue(pg, lambda: int(pg.psql("SELECT count(*) FROM herald.message_queue")) >= expected, 1800,
                       f"{expected} messages queued")
            herald.terminate(timeout=120)
            pg.psql("VACUUM ANALYZE")
        if a.keep and not a.together:  # the queued state, to EXPLAIN the dispatch statements by hand
            pg.psql("CREATE DATABASE herald_queued TEMPLATE herald", db="postgres")
            print(f"kept: {pg.parent} (database herald_queued holds the queued storm)")
        pg.psql("CHECKPOINT")
        pg.psql("SELECT pg_stat_statements_reset()")
        pg.psql("CREATE TABLE public.bench_tab0 AS SELECT relid, n_tup_ins i0, n_tup_upd u0, n_tup_hot_upd h0,"
                " n_tup_del d0 FROM pg_stat_user_tables")
        workers = {} if a.together else {"HERALD_INTAKE_WORKERS": "0", "HERALD_OUTAGES_WORKERS": "0"}
        herald = Heraldd(herald.binary, pg.url(), {**env, **workers, **extra})
        perf = storm.perf_start(a.perf)
        herald.start(timeout=120)
        if a.together:
            herald.provision_keys()
            r = Api(herald.base_url, herald.cis_key).put("/v1/outages/storm-1", outage)
            if r.status not in (200, 201, 202):
                raise RuntimeError(f"PUT /v1/outages/storm-1: {r}")
        before = cpu_seconds(herald.pid, pg)
        started = time.monotonic()
        wait_queue(pg, lambda: pg.psql("SELECT EXISTS (SELECT 1 FROM herald.message_queue)") == "f"
                   and int(pg.psql("SELECT count(*) FROM herald.messages")) >= expected, 1800, "every message sent")
        wall = time.monotonic() - started
        storm.perf_stop(perf)
        after = cpu_seconds(herald.pid, pg)
        herald.terminate(timeout=120)
        sent = int(pg.psql("SELECT count(*) FROM herald.messages WHERE status = 'sent'"))
        span = float(pg.psql("SELECT extract(epoch FROM max(sent_at) - min(sent_at)) FROM herald.messages") or 0)
        print(f"\n{sent:,} of {expected:,} messages sent; {sent / span:,.0f}/s (first to last sent_at),"
              f" queue empty after {wall:.1f} s")
        for k in before:
            print(f"CPU per message, {k}: {(after[k] - before[k]) * 1e6 / sent:.1f} µs")
        print(f"load average: {os.getloadavg()}")
        rows = pg.psql(
            "SELECT round(total_exec_time::numeric, 0), round(total_plan_time::numeric, 0), calls, rows,"
            f" round((total_exec_time * 1000 / {sent})::numeric, 1),"
            f" round((shared_blks_hit + shared_blks_read)::numeric / {sent}, 1),"
            f" round(shared_blks_dirtied::numeric / {sent}, 2), round(wal_bytes / {sent}, 0),"
            " regexp_replace(left(query, 110), '\\s+', ' ', 'g')"
            f" FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT {a.top}")
        print(f"\n{'ms':>8} {'plan':>6} {'calls':>7} {'rows':>8} {'µs/msg':>7} {'blk/msg':>7} {'dirt/msg':>8} {'wal B/msg':>9}  query")
        for line in rows.splitlines():
            ms, plan, calls, n, us, blks, dirtied, wal, query = line.split("|", 8)
            print(f"{ms:>8} {plan:>6} {calls:>7} {n:>8} {us:>7} {blks:>7} {dirtied:>8} {wal:>9}  {query}")
        totals = pg.psql("SELECT round(sum(total_exec_time)::numeric, 0), sum(calls),"
                         f" round(sum(wal_bytes) / {sent}, 0) FROM pg_stat_statements")
        print(f"all statements: ms, calls, WAL bytes per message: {totals}")
        print("\ntable: inserts, updates, HOT updates, deletes (dispatch phase)")
        print(pg.psql("SELECT relname, n_tup_ins - coalesce(i0, 0), n_tup_upd - coalesce(u0, 0),"
                      " n_tup_hot_upd - coalesce(h0, 0), n_tup_del - coalesce(d0, 0)"
                      " FROM pg_stat_user_tables s LEFT JOIN bench_tab0 b USING (relid)"
                      " WHERE n_tup_ins + n_tup_upd + n_tup_del > coalesce(i0 + u0 + d0, 0) ORDER BY 3 DESC"))
    finally:
        if herald is not None and herald.running:
            herald.terminate(timeout=120)
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
