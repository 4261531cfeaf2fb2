"""A local SMTP server (aiosmtpd) on a free port that keeps every message it receives, parsed.

    sink = SmtpSink().start()
    ... heraldd sends to smtp://127.0.0.1:{sink.port} ...
    msg = sink.wait_for_message(lambda m: m.envelope_to == ["ada@example.com"])
    msg.message["List-Unsubscribe"]
    sink.stop()
"""
from __future__ import annotations

import dataclasses
import email
import email.message
import email.policy
import socket
import threading
import time
from typing import Callable, Optional

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclasses.dataclass
class ReceivedMail:
    envelope_from: str
    envelope_to: list
    raw: bytes
    message: email.message.EmailMessage
    received_at: float
    authenticated: bool = False  # the client logged in (AUTH) before sending it

    def part(self, content_type: str) -> Optional[str]:
        """The decoded text of the first part with this content type (text/plain, text/html)."""
        for p in self.message.walk():
            if p.get_content_type() == content_type and not p.is_multipart():
                return p.get_content()
        return None


class _Collector:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refused = self.sink.refuse_rcpt.get(address.lower())
        if refused:
            return refused
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        with self.sink._lock:
            mail = ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed, time.time(),
                                bool(session.authenticated))
            self.sink._mails.append(mail)
            if self.sink.on_message is not None:
                self.sink.on_message(mail)
        return "250 Message accepted for delivery"


class _PortZeroController(Controller):
    """aiosmtpd's Controller binds a given port; this one binds a socket made here on port 0."""

    def __init__(self, handler, sock: socket.socket, **kw):
        self._sock = sock
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1], **kw)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class SmtpSink:
    def __init__(self, credentials: Optional[tuple[str, str]] = None,
                 on_message: Optional[Callable[[ReceivedMail], None]] = None):
        """credentials (login, password): offer AUTH over plain text and accept only these (a wrong
        pair gets 535); mail without AUTH is still accepted. on_message sees every mail before the
        client gets its 250."""
        self._lock = threading.Lock()
        self._mails: list[ReceivedMail] = []
        self.refuse_rcpt: dict[str, str] = {}  # lower-cased address -> SMTP reply, e.g. "550 5.1.1 no such user"
        self.credentials = credentials
        self.on_message = on_message
        self._controller: Optional[_PortZeroController] = None
        self.port = 0

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and self.credentials is not None
              and (auth_data.login, auth_data.password) == tuple(c.encode() for c in self.credentials))
        # handled=False: aiosmtpd answers 535 itself on failure instead of leaving the client waiting.
        return AuthResult(success=ok, handled=False)

    def start(self) -> "SmtpSink":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        auth = {"authenticator": self._authenticate, "auth_require_tls": False} if self.credentials else {}
        self._controller = _PortZeroController(_Collector(self), sock, server_hostname="sink.test",
                                               ready_timeout=10, **auth)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()
            self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def gateway_env(self, name: str = "SMTP", from_address: str = "billing@utility.example", **extra) -> dict:
        env = {f"HERALD_GATEWAYS_{name}_TYPE": "smtp", f"HERALD_GATEWAYS_{name}_URL": self.url,
               f"HERALD_GATEWAYS_{name}_FROM": from_address, f"HERALD_GATEWAYS_{name}_STARTTLS": "none"}
        env.update({f"HERALD_GATEWAYS_{name}_{k.upper()}": str(v) for k, v in extra.items()})
        return env

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._mails)

    def messages_to(self, address: str) -> list[ReceivedMail]:
        address = address.lower()
        return [m for m in self.messages if address in (a.lower() for a in m.envelope_to)]

    def wait_for_message(self, predicate: Callable[[ReceivedMail], bool] = lambda m: True,
                         timeout: float = 15.0) -> Optional[ReceivedMail]:
        deadline = time.monotonic() + timeout
        while True:
            for m in self.messages:
                if predicate(m):
                    return m
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)
