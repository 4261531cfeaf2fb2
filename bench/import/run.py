#!/usr/bin/env python3
"""Import benchmark: `heraldd import-customers` of N generated customers (JSON lines: one account,
an SMS and voice number and an email each), next to a raw COPY of the very rows the import stored
into empty tables of the same shape (same columns and indexes) on the same Postgres in the same run.
Then the same file again, every customer unchanged.

Usage (from the repository root, as root or as a user who can run initdb):
    python3 bench/import/run.py                        # 1,000,000 customers
    python3 bench/import/run.py --customers 20000      # a smoke run (seconds)
Not a test: it never fails on a number. See bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "bench", "load"))

from herald_e2e import PG_BIN, Heraldd, find_heraldd, zone_where  # noqa: E402
from run import BenchPostgres, add_pg_option, cpu_seconds, heraldd_env, pg_settings  # noqa: E402  (bench/load/run.py: a private durable cluster)

# Mid-morning where the customers live, so a storm run on them is never held for quiet hours.
ZONE = zone_where(lambda t: 9 <= t.hour < 14)[0]

FIRST = ["Ada", "Grace", "Alan", "Maria", "Jose", "Wei", "Amara", "Olga", "Priya", "Kenji", "Fatima", "Liam"]
LAST = ["Lovelace", "Hopper", "Turing", "Garcia", "Okafor", "Nguyen", "Kowalski", "Haddad", "Silva", "Tanaka",
        "Johansson", "Murphy", "Schmidt"]
# The tables an import writes; the baseline copies what it stored in each.
TABLES = ["customers", "accounts", "contacts", "consent_events", "preferences", "preference_changes"]


def phone(i: int) -> str:
    # 10,000,000 distinct valid NANP numbers: area code 217 or 309, exchange 200-999.
    area = "217" if i < 8_000_000 else "309"
    return f"+1{area}{2000000 + i % 8_000_000:07d}"


def customer_line(i: int, zone: str = ZONE) -> dict:
    cid = f"C{i:07d}"
    p = phone(i)
    return {"customer_id": cid, "name": f"{FIRST[i % len(FIRST)]} {LAST[(i // 7) % len(LAST)]}",
            "language": "es" if i % 10 == 0 else "en",
            "accounts": [{"account_id": f"A{i:07d}", "premise_id": f"P{i:07d}",
                          "service_address": {"line1": f"{i % 9000 + 1} Main St", "city": "Springfield",
                                              "state": "IL", "zip": f"{62700 + i % 50}"},
                          "timezone": zone, "feeder": f"F-{i % 400}", "segments": []}],
            "contacts": [{"channel": "sms", "address": p}, {"channel": "voice", "address": p},
                         {"channel": "email", "address": f"c{i}@example.com"}]}


def write_customers(path: str, count: int, zone: str = ZONE) -> None:
    with open(path, "w") as f:
        batch = []
        for i in range(count):
            batch.append(json.dumps(customer_line(i, zone), separators=(",", ":")))
            if len(batch) == 10000:
                f.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            f.write("\n".join(batch) + "\n")


def cpu_now(pg: BenchPostgres) -> dict:
    """CPU seconds so far of this script's finished children (heraldd, psql) and of the whole
    Postgres cluster: on two shared cores the CPU a customer costs says more than its wall time,
    and it bounds the rate (customers/s <= cores / CPU per customer)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"client": children.ru_utime + children.ru_stime, "postgres": cpu_seconds(os.getpid(), pg)["postgres"]}


def cpu_per_customer(before: dict, after: dict, customers: int) -> dict:
    return {k: (after[k] - before[k]) * 1e6 / customers for k in before}


def run_import(heraldd: Heraldd, path: str, chunk: int | None = None, show_progress: bool = True,
               jobs: int | None = None) -> dict:
    """Runs import-customers; returns its wall time, summary counts and the last progress line."""
    args = [heraldd.binary, "import-customers", path] + (["--chunk", str(chunk)] if chunk else [])
    args += ["--jobs", str(jobs)] if jobs else []
    start = time.monotonic()
    proc = subprocess.Popen(args, env=heraldd.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    progress = ""
    for line in proc.stderr:
        if line.startswith("import-customers:"):
            progress = line.strip()
            if show_progress:
                print("  " + progress, flush=True)
        else:
            sys.stderr.write(line)
    out = proc.stdout.read()
    rc = proc.wait()
    seconds = time.monotonic() - start
    if rc not in (0, 3):
        raise RuntimeError(f"import-customers exited {rc}: {out[-2000:]}")
    m = re.search(r"(\d+) lines, (\d+) loaded \((\d+) created, (\d+) updated, (\d+) unchanged\), (\d+) rejected",
                  out)
    if not m:
        raise RuntimeError(f"no summary from import-customers: {out[-2000:]}")
    keys = ["lines", "loaded", "created", "updated", "unchanged", "rejected"]
    return {"seconds": seconds, **dict(zip(keys, map(int, m.groups()))), "summary": out.splitlines()[0]}


def raw_copy_baseline(pg: BenchPostgres, workdir: str) -> tuple[float, int, dict, dict]:
    """COPY of every row the import stored, from files, into empty tables LIKE the real ones (indexes
    included); returns (seconds, rows, CPU before, CPU after)."""
    pg.psql("DROP SCHEMA IF EXISTS bench_copy CASCADE; CREATE SCHEMA bench_copy")
    files = []
    for t in TABLES:
        f = os.path.join(workdir, f"{t}.copy")
        pg.psql(f"\\copy herald.{t} TO '{f}'")
        # Identity columns become plain ones: the baseline takes the ids as they are.
        pg.psql(f"CREATE TABLE bench_copy.{t} (LIKE herald.{t} INCLUDING DEFAULTS INCLUDING INDEXES)")
        files.append((t, f))
    rows = 0
    pg.psql("CHECKPOINT")
    cpu_before = cpu_now(pg)
    start = time.monotonic()
    for t, f in files:
        out = subprocess.run([f"{PG_BIN}/psql", pg.url(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                              f"\\copy bench_copy.{t} FROM '{f}'"], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(out.stderr)
    seconds = time.monotonic() - start
    cpu_after = cpu_now(pg)
    for t, f in files:
        rows += int(pg.psql(f"SELECT count(*) FROM bench_copy.{t}"))
        os.unlink(f)
    pg.psql("DROP SCHEMA bench_copy CASCADE")
    return seconds, rows, cpu_before, cpu_after


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=None, help="lines per transaction (heraldd's default if unset)")
    ap.add_argument("--jobs", type=int, default=None, help="chunks merged at once (heraldd's default if unset)")
    ap.add_argument("--heraldd", default=None)
    ap.add_argument("--keep", action="store_true", help="keep the cluster's directory")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra heraldd environment (a migrations directory, say)")
    add_pg_option(ap)
    a = ap.parse_args()

    pg = BenchPostgres(keep=a.keep, settings=pg_settings(a.pg)).start()
    workdir = tempfile.mkdtemp(prefix="herald-bench-import-")
    try:
        heraldd = Heraldd(find_heraldd(a.heraldd), pg.url(), heraldd_env(a.env))
        heraldd.migrate()
        path = os.path.join(workdir, "customers.jsonl")
        t0 = time.monotonic()
        write_customers(path, a.customers)
        print(f"generated {a.customers:,} customers in {time.monotonic() - t0:.1f} s "
              f"({os.path.getsize(path) / 1e6:.0f} MB of JSON lines)", flush=True)

        pg.psql("CHECKPOINT")
        c0 = cpu_now(pg)
        first = run_import(heraldd, path, a.chunk, jobs=a.jobs)
        c1 = cpu_now(pg)
        again = run_import(heraldd, path, a.chunk, show_progress=False, jobs=a.jobs)
        c2 = cpu_now(pg)
        copy_seconds, copy_rows, c3, c4 = raw_copy_baseline(pg, workdir)
        cpu_import = cpu_per_customer(c0, c1, a.customers)
        cpu_again = cpu_per_customer(c1, c2, a.customers)
        cpu_copy = cpu_per_customer(c3, c4, a.customers)

        rate = first["loaded"] / first["seconds"]
        print()
        print(f"customers: {a.customers:,} (1 account, sms + voice + email each); zone {ZONE}")
        print(f"import-customers:          {first['seconds']:7.1f} s  {rate:9,.0f} customers/s"
              f"  ({first['created']:,} created, {first['rejected']} rejected)")
        print(f"  heraldd said:            {first['summary']}")
        print(f"re-import (all unchanged): {again['seconds']:7.1f} s  {again['loaded'] / again['seconds']:9,.0f}"
              f" customers/s  ({again['unchanged']:,} unchanged)")
        print(f"raw COPY of the {copy_rows:,} rows it stored into tables of the same shape: {copy_seconds:.1f} s "
              f"({a.customers / copy_seconds:,.0f} customers/s)")
        print(f"import / raw COPY time: {first['seconds'] / copy_seconds:.2f}x   (target: >= 20,000 customers/s)")
        cores = os.cpu_count() or 1
        for label, c in (("import", cpu_import), ("re-import", cpu_again), ("raw COPY", cpu_copy)):
            total = c["client"] + c["postgres"]
            print(f"CPU per customer, {label}: client {c['client']:.0f} µs + Postgres {c['postgres']:.0f} µs"
                  f" = {total:.0f} µs; {cores} cores bound it to {cores * 1e6 / total:,.0f} customers/s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
