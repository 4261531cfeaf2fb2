"""A local fake of a utility's OMS receiving Herald's outage report forwards, scriptable from a test.

Serves POST /reports (any path but /_control/*): a JSON body {"type": "outage.report",
"idempotency_key", "sent_at", "report": {...}} signed as the CIS actions are (fake_cis.py): it
checks X-Herald-Signature ("sha256=" + hex HMAC-SHA256(secret, body)), that X-Herald-Timestamp
names the body's sent_at and is recent, and that Idempotency-Key matches the body. A refused
request is answered 401 and stored nowhere. An accepted report is stored once per idempotency
key (a repeated key is answered 200 again, "duplicate": true, and not stored twice).

Control (JSON over HTTP, for tests in any language):
    POST /_control/fail_next  {"count": 2}     the next `count` signed requests get 503
    POST /_control/down       {"down": true}   every request gets 503 until cleared
    GET  /_control/state      requests (each: headers, body, problem, status), bad_signatures,
                              reports (one per key, first arrival), accepted (per key: 2xx answers)
"""
from __future__ import annotations

import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional

from fake_cis import _unix_seconds, cis_signature

DEFAULT_SECRET = "test-oms-secret"


class FakeOms:
    def __init__(self, secret: str = DEFAULT_SECRET, host: str = "127.0.0.1", port: int = 0,
                 max_skew_seconds: Optional[float] = 300.0, fail_first: int = 0,
                 on_request: Optional[Callable[[dict], None]] = None):
        """fail_first: the first N signed requests get 503. max_skew_seconds: how far
        X-Herald-Timestamp may be from this machine's clock (None: not checked, for a client whose
        clock a test moved). on_request sees every request record before the client has its answer."""
        self.secret = secret
        self.max_skew_seconds = max_skew_seconds
        self._lock = threading.Lock()
        self._requests: list[dict] = []
        self._reports: dict[str, dict] = {}
        self._accepted: dict[str, int] = {}
        self._bad_signatures = 0
        self._fail_next = fail_first
        self._down = False
        self._on_request = on_request
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _reply(self, status: int, body: dict) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_GET(self):
                if self.path.startswith("/_control/state"):
                    self._reply(200, fake.state())
                else:
                    self._reply(404, {"reason": "not_found"})

            def do_POST(self):
                body = self._body()
                if self.path.startswith("/_control/"):
                    status, answer = fake._control(self.path[len("/_control/"):].split("?")[0], body)
                else:
                    status, answer = fake._report(dict((k.lower(), v) for k, v in self.headers.items()), body)
                self._reply(status, answer)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread: Optional[threading.Thread] = None

    # -- lifecycle
    def start(self) -> "FakeOms":
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-oms", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def reports_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/reports"

    # -- scripting
    def fail_next(self, count: int = 1) -> None:
        with self._lock:
            self._fail_next += count

    def set_down(self, down: bool) -> None:
        with self._lock:
            self._down = down

    # -- what happened
    def state(self) -> dict:
        with self._lock:
            return {"requests": list(self._requests), "bad_signatures": self._bad_signatures,
                    "reports": list(self._reports.values()), "accepted": dict(self._accepted)}

    # -- handling
    def _control(self, what: str, body: bytes) -> tuple[int, dict]:
        try:
            args = json.loads(body or b"{}")
        except ValueError:
            return 400, {"reason": "bad_json"}
        if what == "fail_next":
            self.fail_next(int(args.get("count", 1)))
        elif what == "down":
            self.set_down(bool(args.get("down", True)))
        else:
            return 404, {"reason": "unknown_control"}
        return 200, {"ok": True}

    def _verify(self, headers: dict, body: bytes, doc) -> Optional[str]:
        if not hmac.compare_digest(headers.get("x-herald-signature", ""), cis_signature(self.secret, body)):
            return "bad_signature"
        if not isinstance(doc, dict) or doc.get("type") != "outage.report" or not isinstance(doc.get("report"), dict):
            return "bad_body"
        sent_at = _unix_seconds(doc.get("sent_at", ""))
        if sent_at is None or headers.get("x-herald-timestamp") != str(sent_at):
            return "bad_timestamp"
        if self.max_skew_seconds is not None and abs(time.time() - sent_at) > self.max_skew_seconds:
            return "stale_timestamp"
        if not headers.get("idempotency-key") or headers.get("idempotency-key") != doc.get("idempotency_key"):
            return "bad_idempotency_key"
        return None

    def _report(self, headers: dict, body: bytes) -> tuple[int, dict]:
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        problem = self._verify(headers, body, doc)
        with self._lock:
            if problem:
                status, answer = 401, {"reason": problem, "message": "request refused: " + problem}
                if problem == "bad_signature":
                    self._bad_signatures += 1
            elif self._down or self._fail_next > 0:
                if not self._down:
                    self._fail_next -= 1
                status, answer = 503, {"reason": "unavailable", "message": "try again"}
            else:
                key = doc["idempotency_key"]
                duplicate = key in self._reports
                if not duplicate:
                    self._reports[key] = {"idempotency_key": key, **doc["report"]}
                self._accepted[key] = self._accepted.get(key, 0) + 1
                status, answer = 200, {"received": doc["report"].get("report_id"), "duplicate": duplicate}
            record = {"headers": headers, "body": doc if isinstance(doc, dict) else body.decode("utf-8", "replace"),
                      "problem": problem, "status": status}
            self._requests.append(record)
        if self._on_request:
            self._on_request(record)
        return status, answer
