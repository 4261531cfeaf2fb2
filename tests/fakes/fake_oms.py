"""A local fake of a utility's OMS receiving Herald's outage report forwards, scriptable from a test.

Serves POST /reports (any path but /_control/*): a JSON body {"type": "outage.report",
"idempotency_key", "sent_at", "report": {...}} signed as the CIS actions are (signed_json.py): it
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

import json
import threading
from typing import Callable, Optional

from signed_json import ControlledJsonServer, signing_problem

DEFAULT_SECRET = "test-oms-secret"


class FakeOms(ControlledJsonServer):
    thread_name = "fake-oms"

    def __init__(self, secret: str = DEFAULT_SECRET, host: str = "127.0.0.1", port: int = 0,
                 max_skew_seconds: Optional[float] = 300.0, fail_first: int = 0,
                 on_request: Optional[Callable[[dict], None]] = None):
        """fail_first: the first N signed requests get 503. max_skew_seconds: how far
        X-Herald-Timestamp may be from this machine's clock (None: not checked, for a client whose
        clock a test moved). on_request sees every request record before the client has its answer."""
        super().__init__(host, port)
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
    def control(self, what: str, args: dict) -> bool:
        if what == "fail_next":
            self.fail_next(int(args.get("count", 1)))
        elif what == "down":
            self.set_down(bool(args.get("down", True)))
        else:
            return False
        return True

    def _problem(self, headers: dict, body: bytes, doc) -> Optional[str]:
        problem = signing_problem(self.secret, self.max_skew_seconds, headers, body, doc)
        if problem is None and (doc.get("type") != "outage.report" or not isinstance(doc.get("report"), dict)):
            return "bad_body"
        return problem

    def handle(self, headers: dict, body: bytes) -> tuple[int, dict, float]:
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        problem = self._problem(headers, body, doc)
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
        return status, answer, 0.0
