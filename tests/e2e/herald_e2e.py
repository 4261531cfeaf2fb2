"""Helpers for the end-to-end tests: Postgres clusters and databases (via psql), the heraldd
process run the 12-factor way (env only), a keep-alive JSON HTTP client and poll-with-deadline."""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo

PG_BIN = "/usr/lib/postgresql/15/bin"
SOURCE_DIR = os.environ.get("HERALD_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PollTimeout(AssertionError):
    pass


def poll(fn: Callable[[], Any], timeout: float = 15.0, interval: float = 0.02, what: str = "condition",
         show: Optional[Callable[[], Any]] = None) -> Any:
    """Calls fn until it returns something truthy and returns that; fails after `timeout` seconds
    naming `what` and the last value seen (or what `show` returns then)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            seen = show() if show else last
            raise PollTimeout(f"timed out after {timeout:.1f} s waiting for {what}; last seen: {seen!r}")
        time.sleep(interval)


# ---------------------------------------------------------------- Postgres

def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PgCluster:
    """A running Postgres cluster: the ctest fixture's (HERALD_TEST_PG_DIR) or a private one."""

    def __init__(self, directory: str, owned: bool):
        self.dir = directory
        self.owned = owned
        with open(os.path.join(directory, "url")) as f:
            self.url = f.read().strip()
        self.data_dir = os.path.join(directory, "data")

    @classmethod
    def from_env_or_private(cls) -> "PgCluster":
        d = os.environ.get("HERALD_TEST_PG_DIR")
        if d and os.path.exists(os.path.join(d, "url")):
            return cls(d, owned=False)
        return cls.start_private()

    @classmethod
    def start_private(cls, port: Optional[int] = None) -> "PgCluster":
        parent = tempfile.mkdtemp(prefix="herald-e2e-pg-")
        os.chmod(parent, 0o755)
        directory = os.path.join(parent, "pg")
        subprocess.run([os.path.join(SOURCE_DIR, "scripts", "test-postgres"), "start", directory,
                        *([str(port)] if port else [])], check=True, stdout=subprocess.DEVNULL)
        return cls(directory, owned=True)

    def url_for(self, dbname: str) -> str:
        u = urllib.parse.urlsplit(self.url)
        return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, u.fragment))

    def psql(self, sql: str, dbname: str = "postgres", check: bool = True) -> str:
        out = subprocess.run([os.path.join(PG_BIN, "psql"), self.url_for(dbname), "-X", "-q", "-At", "-F", "\t",
                              "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True, timeout=120)
        if check and out.returncode != 0:
            raise RuntimeError(f"psql failed ({out.returncode}): {out.stderr.strip()}\nSQL: {sql[:500]}")
        return out.stdout.rstrip("\n")

    def create_database(self, prefix: str = "e2e") -> "Database":
        name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
        self.psql(f'CREATE DATABASE "{name}"')
        return Database(self, name)

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(_as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data_dir, *args]), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)

    def restart(self) -> None:
        self.pg_ctl("-w", "-m", "fast", "restart")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            subprocess.run([os.path.join(SOURCE_DIR, "scripts", "test-postgres"), "stop", self.dir], timeout=120,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.owned:
            shutil.rmtree(os.path.dirname(self.dir), ignore_errors=True)


class Database:
    def __init__(self, cluster: PgCluster, name: str):
        self.cluster = cluster
        self.name = name
        self.url = cluster.url_for(name)

    def sql(self, q: str) -> str:
        return self.cluster.psql(q, self.name)

    def scalar(self, q: str) -> str:
        return self.sql(q).split("\n")[0]

    def rows(self, q: str) -> list[list[str]]:
        out = self.sql(q)
        return [line.split("\t") for line in out.split("\n")] if out else []

    def json(self, q: str) -> Any:
        """Runs a query returning one json value (e.g. SELECT json_agg(t) FROM ... t)."""
        out = self.sql(q)
        return json.loads(out) if out else None

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            self.cluster.psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def sql_literal(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# ---------------------------------------------------------------- HTTP

@dataclasses.dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def __repr__(self) -> str:
        return f"<{self.status} {self.text[:300]}>"


class Api:
    """JSON over HTTP/1.1 keep-alive (one connection per thread) with an optional bearer token."""

    def __init__(self, base_url: str, token: Optional[str] = None, timeout: float = 30.0):
        u = urllib.parse.urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.host, self.port = u.hostname, u.port
        self.token = token
        self.timeout = timeout
        self._local = threading.local()

    def with_token(self, token: Optional[str]) -> "Api":
        return Api(self.base_url, token, self.timeout)

    def _conn(self, fresh: bool = False) -> http.client.HTTPConnection:
        c = getattr(self._local, "conn", None)
        if c is None or fresh:
            if c is not None:
                c.close()
            c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.conn = c
        return c

    def close(self) -> None:
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None

    def request(self, method: str, path: str, body: Any = None, *, raw: Optional[bytes] = None,
                content_type: Optional[str] = None, headers: Optional[dict] = None,
                token: Any = "default") -> Response:
        h = dict(headers or {})
        tok = self.token if token == "default" else token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        data = raw
        if data is None and body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if content_type:
            h["Content-Type"] = content_type
        for attempt in (0, 1):
            conn = self._conn(fresh=attempt > 0)
            try:
                conn.request(method, path, body=data, headers=h)
                r = conn.getresponse()
                payload = r.read()
                resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, payload)
                if r.will_close:
                    self.close()
                return resp
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                # A kept-alive connection the server closed while idle: reconnect once.
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw) -> Response:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw) -> Response:
        return self.request("PUT", path, body, **kw)


def http_get_status(url: str, timeout: float = 2.0) -> int:
    """Status of a GET on a fresh connection; 0 when nothing answered."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        c.request("GET", u.path or "/")
        r = c.getresponse()
        r.read()
        return r.status
    except OSError:
        return 0
    finally:
        c.close()


# ---------------------------------------------------------------- heraldd

class Heraldd:
    """heraldd configured by environment only (plus the repository's config file, read from the
    working directory the way an operator runs it)."""

    def __init__(self, binary: str, database_url: str, env: Optional[dict] = None, port: Optional[int] = None):
        self.binary = os.path.abspath(binary)
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # Inherited HERALD_* variables (the test runner's HERALD_TEST_PG_DIR, HERALD_BIN, ...) are
        # not daemon settings; drop them so only what the test chose configures heraldd.
        base = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
        self.env = {**base,
                    "HERALD_DATABASE_URL": database_url,
                    "HERALD_HTTP_ADDRESS": "127.0.0.1",
                    "HERALD_HTTP_PORT": str(self.port),
                    "HERALD_HTTP_PUBLIC_BASE_URL": self.base_url,
                    "HERALD_AUTH_TOKEN_SECRET": "e2e-" + secrets.token_hex(16),
                    # No load balancer to tell: stop at once (tests of the delay set it).
                    "HERALD_SERVER_DRAIN_DELAY_SECONDS": "0",
                    **(env or {})}
        self.proc: Optional[subprocess.Popen] = None
        self.log_path = tempfile.NamedTemporaryFile(prefix="heraldd-e2e-", suffix=".log", delete=False).name
        self.exit_codes: list[int] = []
        self.public = Api(self.base_url)
        self.admin: Optional[Api] = None
        self.cis: Optional[Api] = None
        self.admin_key = self.cis_key = ""

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        out = subprocess.run([self.binary, *args], env=self.env, cwd=SOURCE_DIR, capture_output=True, text=True,
                             timeout=timeout)
        if check and out.returncode != 0:
            raise RuntimeError(f"heraldd {' '.join(args)} exited {out.returncode}: {out.stderr.strip()[-2000:]}")
        return out

    def migrate(self) -> None:
        self.cli("migrate")

    def create_api_key(self, role: str, name: str) -> str:
        out = self.cli("create-api-key", "--role", role, "--name", name)
        lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
        assert lines, f"create-api-key printed nothing (stderr: {out.stderr.strip()[-500:]})"
        return lines[-1]

    def provision_keys(self) -> None:
        self.admin_key = self.create_api_key("admin", "e2e-admin")
        self.cis_key = self.create_api_key("cis", "e2e-cis")
        self.admin = Api(self.base_url, self.admin_key)
        self.cis = Api(self.base_url, self.cis_key)

    def start(self, timeout: float = 30.0, wait_ready: bool = True) -> "Heraldd":
        log = open(self.log_path, "ab")
        log.write(f"\n===== heraldd serve started {datetime.datetime.now().isoformat()} =====\n".encode())
        log.flush()
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, cwd=SOURCE_DIR, stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"heraldd serve exited with {self.proc.returncode} before ready:\n{self.log_tail()}")
            if http_get_status(self.base_url + "/readyz") == 200:
                return
            if time.monotonic() >= deadline:
                raise RuntimeError(f"heraldd not ready within {timeout} s:\n{self.log_tail()}")
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; returns the exit code (a negative number is the killing signal)."""
        if not self.running:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"heraldd did not exit within {timeout} s of SIGTERM:\n{self.log_tail()}")
        self.exit_codes.append(rc)
        self._close_clients()
        return rc

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.exit_codes.append(self.proc.returncode)
        self._close_clients()

    def _close_clients(self) -> None:
        for api in (self.public, self.admin, self.cis):
            if api is not None:
                api.close()

    def log_tail(self, lines: int = 60) -> str:
        try:
            with open(self.log_path, "rb") as f:
                data = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(data[-lines:])

    def log_text(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def find_heraldd(explicit: Optional[str] = None) -> str:
    """The heraldd the build made: `explicit`, else $HERALD_BIN, else $HERALD_BUILD_DIR/src/app/heraldd
    (what scripts/build writes; build/ by default), else the newest build*/src/app/heraldd. A path
    given explicitly or in HERALD_BIN must exist: falling back to another build would test the wrong binary."""
    for given, what in ((explicit, "the given path"), (os.environ.get("HERALD_BIN"), "HERALD_BIN")):
        if given:
            if os.path.isfile(given) and os.access(given, os.X_OK):
                return os.path.abspath(given)
            raise RuntimeError(f"heraldd not found at {given} ({what})")
    build_dir = os.environ.get("HERALD_BUILD_DIR")
    if build_dir:
        p = os.path.join(SOURCE_DIR, build_dir, "src", "app", "heraldd")  # an absolute build_dir wins in join
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
        raise RuntimeError(f"heraldd not found at {p} (HERALD_BUILD_DIR): run scripts/build")
    candidates = []
    for d in os.listdir(SOURCE_DIR):
        p = os.path.join(SOURCE_DIR, d, "src", "app", "heraldd")
        if d.startswith("build") and os.path.isfile(p) and os.access(p, os.X_OK):
            candidates.append(p)
    if not candidates:
        raise RuntimeError(f"heraldd not found under {SOURCE_DIR}/build*/src/app/: run scripts/build, "
                           "or set HERALD_BIN (a binary) or HERALD_BUILD_DIR (a build directory)")
    default = os.path.join(SOURCE_DIR, "build", "src", "app", "heraldd")
    return default if default in candidates else max(candidates, key=os.path.getmtime)


# ---------------------------------------------------------------- data

# Zones with a wide spread of UTC offsets; the Etc ones guarantee every hour of the day exists.
_ZONES = ["America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles", "America/Anchorage",
          "Pacific/Honolulu", "America/Sao_Paulo", "Atlantic/Azores", "Europe/London", "Europe/Berlin",
          "Europe/Athens", "Europe/Moscow", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka",
          "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Brisbane", "Pacific/Noumea", "Pacific/Auckland",
          "Pacific/Tongatapu", "Pacific/Kiritimati"] + [f"Etc/GMT{o:+d}" for o in range(-14, 13) if o]


def zone_where(predicate: Callable[[datetime.datetime], bool]) -> tuple[str, datetime.datetime]:
    """An IANA zone whose current local time satisfies predicate, with that local time."""
    now = datetime.datetime.now(datetime.timezone.utc)
    for z in _ZONES:
        local = now.astimezone(ZoneInfo(z))
        if predicate(local):
            return z, local
    raise AssertionError("no zone in the list satisfies the predicate")


def daytime_zone() -> str:
    """A zone where it is now comfortably inside 08:00-21:00 (no boundary during a test)."""
    return zone_where(lambda t: 9 <= t.hour < 20)[0]


def night_zone() -> tuple[str, datetime.datetime]:
    """A zone where it is now comfortably inside 21:00-08:00."""
    return zone_where(lambda t: t.hour >= 22 or t.hour < 7)


def customer_body(cid: str, *, phone: Optional[str] = None, email: Optional[str] = None, tz: Optional[str] = None,
                  name: Optional[str] = None, account_id: Optional[str] = None, voice: bool = False) -> dict:
    contacts = []
    if phone:
        contacts.append({"channel": "sms", "address": phone})
        if voice:
            contacts.append({"channel": "voice", "address": phone})
    if email:
        contacts.append({"channel": "email", "address": email})
    return {"name": name or f"Customer {cid}", "language": "en",
            "accounts": [{"account_id": account_id or f"A-{cid}", "premise_id": f"P-{cid}",
                          "service_address": {"line1": "12 Main St", "city": "Springfield", "state": "IL",
                                              "zip": "62701"},
                          "timezone": tz or daytime_zone(), "feeder": "F-12", "segments": []}],
            "contacts": contacts}


def preferences(billing=("sms", "email"), outage=("sms",), other=("email",), quiet=True,
                start="21:00", end="08:00", language="en") -> dict:
    return {"topics": {"billing": {"channels": list(billing)}, "outage": {"channels": list(outage)},
                       "other": {"channels": list(other)}},
            "quiet_hours": {"enabled": quiet, "start": start, "end": end}, "language": language}


def create_customer(api: Api, cid: str, prefs: Optional[dict] = None, **kw) -> dict:
    r = api.put(f"/v1/customers/{cid}", customer_body(cid, **kw))
    assert r.status == 200, f"PUT /v1/customers/{cid} -> {r}"
    if prefs is not None:
        p = api.put(f"/v1/customers/{cid}/preferences", prefs)
        assert p.status == 200, f"PUT /v1/customers/{cid}/preferences -> {p}"
    return r.json()


def bill_ready(event_id: str, account_id: str, amount: str = "82.17", due_in_days: int = 20,
               occurred_at: Optional[datetime.datetime] = None) -> dict:
    now = occurred_at or datetime.datetime.now(datetime.timezone.utc)
    due = (now + datetime.timedelta(days=due_in_days)).date().isoformat()
    return {"event_id": event_id, "type": "bill.ready", "account_id": account_id,
            "occurred_at": now.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "data": {"amount_due": amount, "due_date": due, "bill_url": f"https://billing.utility.example/b/{event_id}"}}


def post_event(api: Api, event: dict) -> Response:
    r = api.post("/v1/events", event)
    assert r.status in (200, 202), f"POST /v1/events -> {r}"
    return r


def wait_event_processed(api: Api, event_id: str, timeout: float = 15.0) -> dict:
    def check():
        r = api.get(f"/v1/events/{urllib.parse.quote(event_id)}")
        if r.status == 200 and r.json().get("status") in ("processed", "rejected"):
            return r.json()
        return None
    return poll(check, timeout, what=f"event {event_id} processed")


def message(api: Api, message_id) -> dict:
    r = api.get(f"/v1/messages/{message_id}")
    assert r.status == 200, f"GET /v1/messages/{message_id} -> {r}"
    return r.json()


def event_messages(admin: Api, event_id: str, timeout: float = 15.0) -> dict:
    """The messages an event produced, by channel, once it is processed."""
    ev = wait_event_processed(admin, event_id, timeout)
    assert ev["status"] == "processed", f"event {event_id}: {ev}"
    out = {}
    for mid in ev.get("message_ids", []):
        m = message(admin, mid)
        out[m["channel"]] = m
    return out


def wait_message_status(admin: Api, message_id, statuses, timeout: float = 15.0) -> dict:
    statuses = {statuses} if isinstance(statuses, str) else set(statuses)

    last = {}

    def check():
        last["m"] = message(admin, message_id)
        return last["m"] if last["m"].get("status") in statuses else None
    return poll(check, timeout, what=f"message {message_id} in {sorted(statuses)}", show=lambda: last.get("m"))


def parse_time(s: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
