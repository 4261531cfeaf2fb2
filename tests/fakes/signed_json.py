"""What the fake CIS and fake OMS share: the signature Herald puts on its outbound JSON requests,
the checks of it, and a small threaded JSON server with a /_control/* side for tests.

Herald signs a request as X-Herald-Signature: "sha256=" + hex HMAC-SHA256(secret, body), names the
body's sent_at in X-Herald-Timestamp (Unix seconds) and repeats the body's idempotency_key in
Idempotency-Key.
"""
from __future__ import annotations

import calendar
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional


def herald_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def unix_seconds(rfc3339: str) -> Optional[int]:
    try:
        return calendar.timegm(time.strptime(rfc3339.replace("Z", "+0000")[:19] + "+0000", "%Y-%m-%dT%H:%M:%S%z"))
    except (ValueError, TypeError):
        return None


def signing_problem(secret: str, max_skew_seconds: Optional[float], headers: dict, body: bytes, doc) -> Optional[str]:
    """Why a signed request is refused, or None. headers are lower-cased; doc is the parsed body
    (None when it was not JSON). max_skew_seconds None: the timestamp's age is not checked."""
    if not hmac.compare_digest(headers.get("x-herald-signature", ""), herald_signature(secret, body)):
        return "bad_signature"
    if not isinstance(doc, dict):
        return "bad_body"
    sent_at = unix_seconds(doc.get("sent_at", ""))
    if sent_at is None or headers.get("x-herald-timestamp") != str(sent_at):
        return "bad_timestamp"
    if max_skew_seconds is not None and abs(time.time() - sent_at) > max_skew_seconds:
        return "stale_timestamp"
    if not headers.get("idempotency-key") or headers.get("idempotency-key") != doc.get("idempotency_key"):
        return "bad_idempotency_key"
    return None


class ControlledJsonServer:
    """A threaded HTTP/1.1 server answering JSON. GET /_control/state answers state();
    POST /_control/<what> with a JSON object calls control(what, args) -> bool (False: unknown);
    any other POST calls handle(headers, body) -> (status, answer, delay_seconds)."""

    thread_name = "fake"

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
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

            def do_GET(self):
                if self.path.startswith("/_control/state"):
                    self._reply(200, fake.state())
                else:
                    self._reply(404, {"reason": "not_found"})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                if self.path.startswith("/_control/"):
                    self._reply(*fake._control_request(self.path[len("/_control/"):].split("?")[0], body))
                    return
                status, answer, delay = fake.handle(dict((k.lower(), v) for k, v in self.headers.items()), body)
                if delay:
                    time.sleep(delay)
                self._reply(status, answer)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread: Optional[threading.Thread] = None

    def _control_request(self, what: str, body: bytes) -> tuple[int, dict]:
        try:
            args = json.loads(body or b"{}")
        except ValueError:
            return 400, {"reason": "bad_json"}
        if not isinstance(args, dict):
            return 400, {"reason": "bad_json"}
        if not self.control(what, args):
            return 404, {"reason": "unknown_control"}
        return 200, {"ok": True}

    # -- to be provided by each fake
    def state(self) -> dict:
        raise NotImplementedError

    def control(self, what: str, args: dict) -> bool:
        raise NotImplementedError

    def handle(self, headers: dict, body: bytes) -> tuple[int, dict, float]:
        raise NotImplementedError

    # -- lifecycle
    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
