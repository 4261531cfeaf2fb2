"""A local fake of Kannel's smsbox sendsms interface speaking its wire format, scriptable from a test.

Serves GET /cgi-bin/sendsms?username&password&from&to&text&charset&coding&dlr-mask&dlr-url and
answers as smsbox does: 202 "0: Accepted for delivery", 403 "Authorization failed for sendsms",
403 "Not routable. Do not try again.", 503 "Temporal failure, try again later.". A test queues
replies, reads what was accepted, and calls a message's dlr-url back with a DLR type, as smsbox
does with %d (and %A) filled in. For tests of Herald's side only; the real Kannel is exercised
by tests/e2e/test_kannel.py.

    kannel = FakeKannel().start()
    kannel.queue(Reply.temporal_failure())
    ...
    kannel.send_dlr(kannel.accepted[0], 1)
    kannel.stop()
"""
from __future__ import annotations

import dataclasses
import http.server
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Optional

DEFAULT_USERNAME = "herald"
DEFAULT_PASSWORD = "e2e-fake-kannel-password"


@dataclasses.dataclass
class Reply:
    status: int = 202
    body: str = "0: Accepted for delivery"

    @staticmethod
    def accept() -> "Reply":
        return Reply()

    @staticmethod
    def not_routable() -> "Reply":
        return Reply(403, "Not routable. Do not try again.")

    @staticmethod
    def temporal_failure() -> "Reply":
        return Reply(503, "Temporal failure, try again later.")


@dataclasses.dataclass
class SendRequest:
    params: dict
    status: int
    body: str

    @property
    def to(self) -> str:
        return self.params.get("to", "")

    @property
    def text(self) -> str:
        return self.params.get("text", "")

    @property
    def dlr_url(self) -> str:
        return self.params.get("dlr-url", "")


class FakeKannel:
    def __init__(self, username: str = DEFAULT_USERNAME, password: str = DEFAULT_PASSWORD, on_request=None):
        self.username = username
        self.password = password
        self.on_request = on_request  # called with each SendRequest before it is answered
        self.requests: list[SendRequest] = []
        self._queue: list[Reply] = []
        self._behaviour: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self._server: Optional[http.server.ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # -- lifecycle
    def start(self) -> "FakeKannel":
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's naming)
                path, _, query = self.path.partition("?")
                if path != "/cgi-bin/sendsms":
                    return self._answer(404, "Not found")
                params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
                status, body = fake._reply_to(params)
                self._answer(status, body)

            def _answer(self, status: int, body: str):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/sendsms"

    def gateway_env(self, name: str, webhook_token: str, from_number: str = "12345", **extra) -> dict:
        """Environment that makes heraldd's gateway NAME a kannel gateway talking to this fake."""
        env = {f"HERALD_GATEWAYS_{name}_TYPE": "kannel",
               f"HERALD_GATEWAYS_{name}_URL": self.url,
               f"HERALD_GATEWAYS_{name}_USERNAME": self.username,
               f"HERALD_GATEWAYS_{name}_PASSWORD": self.password,
               f"HERALD_GATEWAYS_{name}_FROM": from_number,
               f"HERALD_GATEWAYS_{name}_WEBHOOK_TOKEN": webhook_token}
        env.update({f"HERALD_GATEWAYS_{name}_{k.upper()}": str(v) for k, v in extra.items()})
        return env

    # -- scripting
    def queue(self, *replies: Reply) -> None:
        """The next requests get these replies, in order; afterwards each is accepted."""
        with self._lock:
            self._queue.extend(replies)

    def set_behaviour(self, to: str, reply: Reply) -> None:
        """Every request to this number gets this reply."""
        with self._lock:
            self._behaviour[to] = reply

    def _reply_to(self, params: dict) -> tuple[int, str]:
        with self._lock:
            if params.get("username") != self.username or params.get("password") != self.password:
                reply = Reply(403, "Authorization failed for sendsms")
            elif not params.get("to"):
                reply = Reply(400, "Missing receiver number, rejected")
            elif params["to"] in self._behaviour:
                reply = self._behaviour[params["to"]]
            elif self._queue:
                reply = self._queue.pop(0)
            else:
                reply = Reply.accept()
            request = SendRequest(params, reply.status, reply.body)
            self.requests.append(request)
        if self.on_request:
            self.on_request(request)
        return reply.status, reply.body

    @property
    def accepted(self) -> list[SendRequest]:
        with self._lock:
            return [r for r in self.requests if r.status == 202]

    def wait_accepted(self, count: int = 1, timeout: float = 15.0) -> list[SendRequest]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.accepted
            if len(got) >= count:
                return got
            if time.monotonic() >= deadline:
                raise AssertionError(f"fake kannel accepted {len(got)} of {count} messages; requests: {self.requests}")
            time.sleep(0.02)

    @staticmethod
    def send_dlr(request: SendRequest, dlr_type: int, smsc_reply: str = "") -> tuple[int, str]:
        """Calls the request's dlr-url as smsbox does: %d is the DLR type, %A the SMSC's text."""
        url = request.dlr_url.replace("%d", str(dlr_type)).replace("%A", urllib.parse.quote(smsc_reply, safe=""))
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
