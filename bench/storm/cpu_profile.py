"""Where a storm's CPU goes: heraldd per thread (by the names its threads carry), the Postgres cluster
per process kind (client backends, autovacuum, WAL writer, checkpointer, ... and the processes that
exited), and the client backends' time split by component from pg_stat_statements (top-level
statements only, so a trigger's statement is not counted twice; the triggers' own statements are
listed apart, as a part of the statement that fired them). Used by bench/storm/run.py --profile."""
from __future__ import annotations

import os
import re
from collections import defaultdict

TICK = os.sysconf("SC_CLK_TCK")

# Components by the text of their statements, first match wins.
COMPONENTS = [
    ("fan-out chunk", re.compile(r"WITH chunk AS")),
    ("text indexer", re.compile(r"message_text")),
    ("dispatch claim", re.compile(r"leased AS \(")),
    ("dispatch record", re.compile(r"ended AS \(")),
    ("dispatch lease checks", re.compile(r"lease_owner = \$1")),
    ("dispatch consent", re.compile(r"opted_out_|consent_lock")),
    ("outage counts fold", re.compile(r"outage_message_counts")),
    ("commit/begin", re.compile(r"^(COMMIT|BEGIN|ROLLBACK|SET |SAVEPOINT|RELEASE)", re.I)),
]


VACUUMS = ("SELECT relname, autovacuum_count || '|' || autoanalyze_count FROM pg_stat_user_tables"
           " WHERE autovacuum_count + autoanalyze_count > 0")


def _ticks(path: str) -> tuple[str, int, int, int]:
    """(comm, parent, own ticks, reaped children's ticks) of /proc/.../stat."""
    with open(path) as f:
        text = f.read()
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text.rsplit(")", 1)[1].split()
    return comm, int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def heraldd_threads(pid: int) -> dict[str, float]:
    """CPU seconds so far per thread name, and the whole process as 'total'."""
    out: dict[str, float] = defaultdict(float)
    comm_of_process = _ticks(f"/proc/{pid}/stat")[0]
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            comm, _, own, _ = _ticks(f"/proc/{pid}/task/{tid}/stat")
        except (OSError, ValueError, IndexError):
            continue
        out[comm if comm != comm_of_process else "unnamed (main, HTTP, gateway sends)"] += own / TICK
    out["total"] = _ticks(f"/proc/{pid}/stat")[2] / TICK
    return dict(out)


def _pg_kind(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            title = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "gone"
    title = title.removeprefix("postgres: ")
    if re.match(r"\S+ \S+ (\[local\]|[0-9.:]+\(\d+\))", title):
        return "client backends"
    return re.sub(r"\s+\d.*$", "", title.split("  ")[0]).strip() or "postmaster"


def postgres_processes(data_dir: str) -> dict[str, float]:
    """CPU seconds so far per kind of Postgres process; 'exited' is what the postmaster reaped."""
    with open(os.path.join(data_dir, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    out: dict[str, float] = defaultdict(float)
    _, _, own, reaped = _ticks(f"/proc/{postmaster}/stat")
    out["postmaster"] += own / TICK
    out["exited (autovacuum workers, ...)"] += reaped / TICK
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            _, parent, own, reaped = _ticks(f"/proc/{entry}/stat")
        except (OSError, ValueError, IndexError):
            continue
        if parent == postmaster:
            out[_pg_kind(int(entry))] += (own + reaped) / TICK
    return dict(out)


def snapshot(heraldd_pid: int, data_dir: str) -> dict:
    return {"heraldd": heraldd_threads(heraldd_pid), "postgres": postgres_processes(data_dir)}


def component_of(query: str) -> str:
    for name, pattern in COMPONENTS:
        if pattern.search(query):
            return name
    return "other"


def statements(pg) -> list[tuple[bool, float, int, int, str]]:
    """(top level, exec ms, calls, rows, query) of every statement pg_stat_statements saw."""
    out = []
    for line in pg.psql("SELECT toplevel, total_exec_time, calls, rows, regexp_replace(query, '\\s+', ' ', 'g')"
                        " FROM pg_stat_statements").splitlines():
        top, ms, calls, rows, query = line.split("|", 4)
        out.append((top == "t", float(ms), int(calls), int(rows), query))
    return out


def report(before: dict, after: dict, stmts: list, messages: int, wall: float) -> list[str]:
    """Lines of the breakdown, CPU in µs per message."""
    us = lambda seconds: seconds * 1e6 / messages  # noqa: E731
    lines = [f"CPU per message over {wall:.1f} s, {messages:,} messages (µs):"]
    for side in ("heraldd", "postgres"):
        deltas = {k: after[side].get(k, 0.0) - before[side].get(k, 0.0) for k in after[side]}
        total = deltas.pop("total", None)
        if total is None:
            total = sum(deltas.values())
        lines.append(f"  {side}: {us(total):8.1f}")
        for k, v in sorted(deltas.items(), key=lambda kv: -kv[1]):
            if v > 0:
                lines.append(f"    {k:36s} {us(v):8.1f}")
    backends = after["postgres"].get("client backends", 0.0) - before["postgres"].get("client backends", 0.0)
    top = [s for s in stmts if s[0]]
    total_ms = sum(s[1] for s in top) or 1.0
    by: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    for _, ms, n, _, query in top:
        by[component_of(query)] += ms
        calls[component_of(query)] += n
    lines.append("  client backends by component (share of top-level execution time × the backends' CPU):")
    for k, ms in sorted(by.items(), key=lambda kv: -kv[1]):
        lines.append(f"    {k:36s} {us(backends * ms / total_ms):8.1f}  ({100 * ms / total_ms:4.1f} %, {calls[k]:,} calls)")
    nested = sorted((s for s in stmts if not s[0]), key=lambda s: -s[1])[:6]
    if nested:
        lines.append("  statements run inside others (triggers; counted in the statement that fired them), exec µs/msg:")
        for _, ms, n, _, query in nested:
            lines.append(f"    {ms * 1000 / messages:8.1f}  {n:>7,} calls  {query[:90]}")
    lines.append("  top-level statements by execution time, µs/msg:")
    for _, ms, n, rows, query in sorted(top, key=lambda s: -s[1])[:12]:
        lines.append(f"    {ms * 1000 / messages:8.1f}  {n:>7,} calls {rows:>9,} rows  {query[:90]}")
    return lines
