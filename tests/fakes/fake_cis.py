"""A local fake of a utility's CIS answering Herald's actions, scriptable from a test.

Serves POST /actions (any path but /_control/*): a JSON body {"action", "idempotency_key",
"sent_at", "params"} with the headers Herald sends. It checks X-Herald-Signature
("sha256=" + hex HMAC-SHA256(secret, body)), that X-Herald-Timestamp names the body's sent_at
and is recent, and that Idempotency-Key matches the body; it answers each idempotency key once
and repeats that answer for the same key (a payment is charged once per key, however often it
is asked). Actions:

    balance.lookup       {"account_id"}                         -> 200 {amount_due, due_date, card_last4}
    payment.authorize    {"account_id", "amount", "card"}       -> 200 {confirmation, amount, card_last4}
                                                                   402 {"reason": "card_declined"}
    registration.lookup  {"account_id", "zip"}                  -> 200 {account_id, verified: true}
                                                                   404 {"reason": "no_match"}

Control (JSON over HTTP, for tests in any language):
    POST /_control/accounts   {"A-1001": {"amount_due": "82.17", "due_date": "2026-12-10",
                                          "card_last4": "4242", "zip": "62701", "decline": false}}
    POST /_control/fail_next  {"count": 1, "mode": "error" | "timeout" | "charge_then_timeout",
                               "delay": 3.0}
    POST /_control/down       {"down": true}        every action answers 503 until cleared
    GET  /_control/state      requests, bad_signatures, charges (per key), payments, answers
"""
from __future__ import annotations

import json
import threading
from typing import Callable, Optional

from signed_json import ControlledJsonServer, signing_problem

DEFAULT_SECRET = "test-cis-secret"


class FakeCis(ControlledJsonServer):
    thread_name = "fake-cis"

    def __init__(self, secret: str = DEFAULT_SECRET, host: str = "127.0.0.1", port: int = 0,
                 max_skew_seconds: Optional[float] = 300.0,
                 on_request: Optional[Callable[[dict], None]] = None):
        """max_skew_seconds: how far X-Herald-Timestamp may be from this machine's clock (None:
        not checked, for a client whose clock a test moved). on_request sees every request record
        before the client has its answer."""
        super().__init__(host, port)
        self.secret = secret
        self.max_skew_seconds = max_skew_seconds
        self._lock = threading.Lock()
        self._accounts: dict[str, dict] = {}
        self._answers: dict[str, tuple[int, dict]] = {}  # idempotency key -> the answer given
        self._charges: dict[str, int] = {}
        self._payments: list[dict] = []
        self._requests: list[dict] = []
        self._bad_signatures = 0
        self._fail_next: list[tuple[str, float]] = []
        self._down = False
        self._on_request = on_request

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/actions"

    # -- scripting
    def set_account(self, account_id: str, **fields) -> None:
        with self._lock:
            self._accounts.setdefault(account_id, {}).update(fields)

    def fail_next(self, count: int = 1, mode: str = "error", delay: float = 3.0) -> None:
        """The next `count` actions fail: "error" answers 503 before doing anything; "timeout"
        answers only after `delay` seconds, without doing anything; "charge_then_timeout" does the
        action (a payment is charged) and answers after `delay` seconds (a lost answer)."""
        if mode not in ("error", "timeout", "charge_then_timeout"):
            raise ValueError(mode)
        with self._lock:
            self._fail_next.extend([(mode, delay)] * count)

    def set_down(self, down: bool) -> None:
        with self._lock:
            self._down = down

    # -- what happened
    def state(self) -> dict:
        with self._lock:
            return {"requests": list(self._requests), "bad_signatures": self._bad_signatures,
                    "charges": dict(self._charges), "payments": list(self._payments),
                    "charge_count": sum(self._charges.values())}

    # -- handling
    def control(self, what: str, args: dict) -> bool:
        if what == "accounts":
            for account_id, fields in args.items():
                self.set_account(account_id, **fields)
        elif what == "fail_next":
            self.fail_next(int(args.get("count", 1)), args.get("mode", "error"), float(args.get("delay", 3.0)))
        elif what == "down":
            self.set_down(bool(args.get("down", True)))
        else:
            return False
        return True

    def handle(self, headers: dict, body: bytes) -> tuple[int, dict, float]:
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        problem = signing_problem(self.secret, self.max_skew_seconds, headers, body, doc)
        record = {"headers": headers, "body": doc if isinstance(doc, dict) else body.decode("utf-8", "replace"),
                  "signature_ok": problem is None, "problem": problem}
        with self._lock:
            self._requests.append(record)
            if problem == "bad_signature":
                self._bad_signatures += 1
        if self._on_request:
            self._on_request(record)
        if problem:
            return 401, {"reason": problem, "message": "request refused: " + problem}, 0.0

        key = doc["idempotency_key"]
        with self._lock:
            if self._down:
                return 503, {"reason": "down", "message": "CIS maintenance"}, 0.0
            failure = self._fail_next.pop(0) if self._fail_next else None
            if failure and failure[0] == "error":
                return 503, {"reason": "unavailable", "message": "try again"}, 0.0
            if failure and failure[0] == "timeout":
                return 503, {"reason": "too_late"}, failure[1]
            if key in self._answers:  # the same key: the same answer, nothing done again
                status, answer = self._answers[key]
                return status, answer, failure[1] if failure else 0.0
            status, answer = self._perform(doc.get("action", ""), doc.get("params") or {}, key)
            self._answers[key] = (status, answer)
            return status, answer, failure[1] if failure else 0.0

    def _perform(self, action: str, params: dict, key: str) -> tuple[int, dict]:
        """Runs under the lock, once per idempotency key."""
        account_id = params.get("account_id", "")
        account = self._accounts.get(account_id)
        if action == "balance.lookup":
            if account is None:
                return 404, {"reason": "unknown_account", "message": "no such account"}
            return 200, {"account_id": account_id, "amount_due": account.get("amount_due", "0.00"),
                         "due_date": account.get("due_date", ""), "card_last4": account.get("card_last4", "")}
        if action == "payment.authorize":
            if account is None:
                return 404, {"reason": "unknown_account", "message": "no such account"}
            if account.get("decline"):
                return 402, {"reason": "card_declined", "message": "the card on file was declined"}
            if not account.get("card_last4"):
                return 422, {"reason": "no_card_on_file", "message": "no card on file"}
            self._charges[key] = self._charges.get(key, 0) + 1
            confirmation = f"PAY-{len(self._payments) + 1:05d}"
            self._payments.append({"key": key, "account_id": account_id, "amount": params.get("amount"),
                                   "confirmation": confirmation})
            return 200, {"confirmation": confirmation, "amount": params.get("amount"),
                         "card_last4": account.get("card_last4")}
        if action == "registration.lookup":
            if account is None or account.get("zip", "") != params.get("zip"):
                return 404, {"reason": "no_match", "message": "no account with that number and ZIP"}
            return 200, {"account_id": account_id, "verified": True, "customer_id": account.get("customer_id", "")}
        return 400, {"reason": "unknown_action", "message": f"unknown action {action!r}"}
