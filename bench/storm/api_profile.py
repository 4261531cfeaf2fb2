#!/usr/bin/env python3
"""Where a preferences request's time goes during the storm: bench/storm/run.py's setup (customers
imported, one outage over all their premises, dispatch through unlimited `log` gateways), with the
API timed the same way (one GET /v1/customers/{id}/preferences every 10 ms) and, for each request:

- heraldd's own account of it (`http.server_timing`): queued for an HTTP worker, waiting for a
  pooled connection, holding it (the round trips to Postgres), the whole handler, the backend's pid;
- the CPU run-queue wait (/proc/.../schedstat, `run_delay`) during the request of the Postgres
  backend that served it, of heraldd's HTTP threads (the main thread and the http-worker threads),
  and of this prober's own thread; the backend's CPU time; how many times heraldd's HTTP threads
  were put on a CPU (`pcount`: each wakeup of a thread is one at least);
- beside it, pg_stat_activity sampled every 50 ms: what heraldd's busy backends wait on (a lock,
  I/O, WAL, or nothing: on a CPU or queued for one), and the number of runnable tasks.

Prints p50/p99 idle and during the storm, then for the slowest 1 % and for the median requests
how their time divides. Usage (from the repository root, as root so it can read the backends'
/proc entries):
    python3 bench/storm/api_profile.py --customers 50000
    python3 bench/storm/api_profile.py --customers 50000 --env HERALD_SERVER_BACKGROUND_NICE=0
Not a test: it never fails on a number. See bench/README.md (the storm section).
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import importlib.util

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("storm_run", os.path.join(HERE, "run.py"))
storm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(storm)  # bench/storm/run.py: its setup and helpers

Api, Heraldd, find_heraldd, BenchPostgres = storm.Api, storm.Heraldd, storm.find_heraldd, storm.BenchPostgres
PsqlSession = sys.modules["run"].PsqlSession  # bench/load/run.py, imported by bench/storm/run.py


def schedstat(path: str) -> tuple[int, int, int]:
    """(CPU time, run-queue wait) of a task in ns and the times it was put on a CPU; zeros once it is gone."""
    try:
        with open(path) as f:
            cpu, wait, runs = f.read().split()
        return int(cpu), int(wait), int(runs)
    except (OSError, ValueError):
        return 0, 0, 0


def thread_names(pid: int) -> dict[int, str]:
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                out[int(tid)] = f.read().strip()
        except OSError:
            pass
    return out


class Backends:
    """The client backends of heraldd's database, refreshed by the sampler."""

    def __init__(self):
        self.pids: list[int] = []
        self.lock = threading.Lock()

    def snapshot(self) -> dict[int, tuple[int, int, int]]:
        with self.lock:
            pids = list(self.pids)
        return {p: schedstat(f"/proc/{p}/schedstat") for p in pids}


def server_timing(header: str) -> dict:
    """queue, pool, db, handler in ms and the backend pid from heraldd's Server-Timing header."""
    out = {}
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        name = fields[0]
        for f in fields[1:]:
            if f.startswith("dur="):
                out[name] = float(f[4:])
            elif f.startswith("desc=") and "backend" in f:
                out["backend"] = int(f.split("backend", 1)[1].split(",")[0].strip().strip('"'))
    return out


class Sampler(threading.Thread):
    """Every 50 ms: what heraldd's busy backends wait on, and how many tasks are runnable."""

    def __init__(self, pg: BenchPostgres, backends: Backends):
        super().__init__(daemon=True)
        self.session = PsqlSession(pg.url())
        self.own_pid = int(self.session.value("SELECT pg_backend_pid()"))
        self.backends = backends
        self.stop = threading.Event()
        self.waits: collections.Counter = collections.Counter()
        self.samples = 0
        self.runnable: list[int] = []

    def run(self) -> None:
        refreshed = 0.0
        while not self.stop.is_set():
            rows = self.session.value(
                "SELECT pid, state, coalesce(wait_event_type, '-'), coalesce(wait_event, '-') FROM pg_stat_activity"
                f" WHERE backend_type = 'client backend' AND datname = 'herald' AND pid <> {self.own_pid}")
            pids = []
            for line in rows.splitlines():
                pid, state, kind, event = line.split("|")
                pids.append(int(pid))
                if state == "active":
                    self.waits[f"{kind}:{event}" if kind != "-" else "CPU (running or runnable)"] += 1
            self.samples += 1
            if time.monotonic() - refreshed > 1:
                with self.backends.lock:
                    self.backends.pids = pids
                refreshed = time.monotonic()
            with open("/proc/loadavg") as f:
                self.runnable.append(int(f.read().split()[3].split("/")[0]))
            self.stop.wait(0.05)

    def finish(self) -> None:
        self.stop.set()
        self.join()
        self.session.close()


def probe(api: Api, herald_pid: int, backends: Backends, customers: int, stop: threading.Event | None,
          count: int | None, seed: int, pace: float) -> list[dict]:
    rng = random.Random(seed)
    own = f"/proc/self/task/{threading.get_native_id()}/schedstat"
    names = thread_names(herald_pid)
    http_tids = [t for t, n in names.items() if t == herald_pid or n == "http-worker"]
    out = []
    while (count is not None and len(out) < count) or (stop is not None and not stop.is_set()):
        if len(out) % 100 == 0:  # the pool's threads start on first use
            names = thread_names(herald_pid)
            http_tids = [t for t, n in names.items() if t == herald_pid or n == "http-worker"]
        cid = f"C{rng.randrange(customers):07d}"
        before_b = backends.snapshot()
        before_h = [schedstat(f"/proc/{herald_pid}/task/{t}/schedstat") for t in http_tids]
        before_p = schedstat(own)
        t = time.perf_counter()
        r = api.get(f"/v1/customers/{cid}/preferences")
        total = (time.perf_counter() - t) * 1000
        after_p = schedstat(own)
        after_h = [schedstat(f"/proc/{herald_pid}/task/{t}/schedstat") for t in http_tids]
        after_b = backends.snapshot()
        if r.status != 200:
            raise RuntimeError(f"preferences of {cid}: {r}")
        st = server_timing(r.headers.get("server-timing", ""))
        row = {"total": total, **{k: st.get(k, float("nan")) for k in ("queue", "pool", "db", "handler")}}
        pid = st.get("backend")
        if pid in before_b and pid in after_b:
            row["backend_wait"] = (after_b[pid][1] - before_b[pid][1]) / 1e6
            row["backend_cpu"] = (after_b[pid][0] - before_b[pid][0]) / 1e6
        row["http_wait"] = sum(a[1] - b[1] for a, b in zip(after_h, before_h)) / 1e6
        row["http_runs"] = sum(a[2] - b[2] for a, b in zip(after_h, before_h))
        row["prober_wait"] = (after_p[1] - before_p[1]) / 1e6
        out.append(row)
        if pace:
            time.sleep(pace)
    return out


COLUMNS = [("total", "client total"), ("queue", "queued for an HTTP worker"), ("pool", "waiting for a connection"),
           ("db", "holding the connection"), ("handler", "handler"), ("backend_cpu", "backend CPU"),
           ("backend_wait", "backend run-queue wait"), ("http_wait", "heraldd HTTP threads' run-queue wait"),
           ("prober_wait", "prober's run-queue wait"),
           ("http_runs", "heraldd HTTP threads' times on a CPU (count)")]


def describe(label: str, rows: list[dict]) -> None:
    totals = sorted(r["total"] for r in rows)
    p50, p99 = storm.pct(totals, 50), storm.pct(totals, 99)
    print(f"\n{label}: {len(rows)} requests, p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    slow = [r for r in rows if r["total"] >= p99]
    middle = sorted(rows, key=lambda r: r["total"])[len(rows) * 45 // 100: len(rows) * 55 // 100 + 1]
    print(f"  {'ms (mean of the group)':40} {'p45-p55':>9} {'>= p99':>9}")
    for key, name in COLUMNS:
        def mean(group):
            vals = [r[key] for r in group if key in r and r[key] == r[key]]
            return statistics.fmean(vals) if vals else float("nan")
        print(f"  {name:40} {mean(middle):9.2f} {mean(slow):9.2f}")
    outside = [r["total"] - r["handler"] for r in slow if r["handler"] == r["handler"]]
    if outside:
        print(f"  {'outside the handler (HTTP, io thread, client)':40} "
              f"{statistics.fmean(r['total'] - r['handler'] for r in middle if r['handler'] == r['handler']):9.2f}"
              f" {statistics.fmean(outside):9.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=50_000)
    ap.add_argument("--idle-requests", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--heraldd", default=None)
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for heraldd (repeatable)")
    storm.add_pg_option(ap)
    a = ap.parse_args()

    pg = BenchPostgres(settings=storm.pg_settings(a.pg)).start()
    work = tempfile.mkdtemp(prefix="herald-bench-apiprofile-")
    herald = None
    try:
        env = {"HERALD_CHANNELS_SMS": "log", "HERALD_CHANNELS_EMAIL": "log", "HERALD_CHANNELS_VOICE": "log",
               "HERALD_GATEWAYS_LOG_RATE_PER_SECOND": "10000000", "HERALD_GATEWAYS_LOG_BURST": "10000000",
               "HERALD_HTTP_BODY_LIMIT": str(64 << 20), "HERALD_SERVER_LOG_LEVEL": "warn",
               "HERALD_HTTP_SERVER_TIMING": "true"}
        env.update(storm.heraldd_env(a.env))
        herald = Heraldd(find_heraldd(a.heraldd), pg.url(), env)
        herald.migrate()
        herald.provision_keys()
        path = os.path.join(work, "customers.jsonl")
        storm.bench_import.write_customers(path, a.customers)
        storm.bench_import.run_import(herald, path)
        os.unlink(path)
        pg.psql("VACUUM ANALYZE")
        pg.psql("CHECKPOINT")

        herald.start(timeout=120)
        backends = Backends()
        sampler = Sampler(pg, backends)
        sampler.start()
        api = Api(herald.base_url, herald.cis_key)
        time.sleep(1.5)  # the sampler has listed the backends
        with open("/proc/loadavg") as f:
            load_idle = f.read().split()[:3]
        idle = probe(api, herald.pid, backends, a.customers, None, a.idle_requests, 1, 0.0)
        idle_paced = probe(api, herald.pid, backends, a.customers, None, a.idle_requests // 2, 3, 0.01)
        idle_waits, idle_samples = collections.Counter(sampler.waits), sampler.samples
        sampler.waits.clear()
        sampler.samples = 0
        sampler.runnable.clear()

        outage = {"status": "confirmed", "kind": "unplanned", "cause": "storm", "etr": None,
                  "affected": {"feeders": [f"F-{i}" for i in range(400)], "premise_ids": [], "zips": []},
                  "planned_start": None, "planned_end": None}
        stop = threading.Event()
        during: list[dict] = []
        prober = threading.Thread(target=lambda: during.extend(
            probe(Api(herald.base_url, herald.cis_key), herald.pid, backends, a.customers, stop, None, 2, 0.01)))
        started_wall = time.time()
        r = api.put("/v1/outages/storm-1", outage)
        if r.status not in (200, 201, 202):
            raise RuntimeError(f"PUT /v1/outages/storm-1: {r}")
        prober.start()
        result = storm.wait_storm(pg, started_wall, a.timeout)
        stop.set()
        prober.join()
        with open("/proc/loadavg") as f:
            load_storm = f.read().split()[:3]
        sampler.finish()
        herald.terminate(timeout=120)
    finally:
        if herald is not None and herald.running:
            herald.terminate(timeout=120)
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nHerald API under the storm, {a.customers:,} customers: {result['messages']:,} messages,"
          f" all created {result['to_created']:.1f} s, all dispatched {result['to_sent']:.1f} s after the PUT;"
          f" load average before {' '.join(load_idle)}, after {' '.join(load_storm)}")
    describe("idle, back to back", idle)
    describe("idle, every 10 ms", idle_paced)
    describe("storm, every 10 ms", during)
    if sampler.runnable:
        print(f"\nrunnable tasks during the storm (every 50 ms): median {statistics.median(sampler.runnable)},"
              f" p90 {storm.pct(sampler.runnable, 90)}")
    for label, waits, samples in (("idle", idle_waits, idle_samples), ("storm", sampler.waits, sampler.samples)):
        print(f"\nheraldd's active backends by wait event, {label} ({samples} samples; mean active per sample):")
        for what, n in waits.most_common(12):
            print(f"  {what:45} {n / max(samples, 1):6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
