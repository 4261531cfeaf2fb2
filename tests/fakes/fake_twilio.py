"""A local fake of Twilio's Messages and Calls APIs speaking their real wire formats, scriptable from a test.

Serves POST /2010-04-01/Accounts/{AccountSid}/Messages.json (form-urlencoded To, From or
MessagingServiceSid, Body, StatusCallback; HTTP basic auth) over HTTP/1.1 keep-alive from an
asyncio loop in a background thread, so it sustains thousands of requests per second. A test
queues replies (429 with Retry-After, then 201), sets per-number behaviour (always 21610), reads
what was accepted, and sends signed status callbacks back to the daemon.

    twilio = FakeTwilio().start()
    twilio.queue(Reply.too_many_requests(retry_after=1))
    twilio.set_behaviour("+12175550101", Reply.opted_out())
    ...
    twilio.send_status_callback(sid, "delivered")
    twilio.stop()

Calls (POST /2010-04-01/Accounts/{AccountSid}/Calls.json: To, From, Url, Method, StatusCallback,
MachineDetection) are answered 201 with a CallSid, then played the way Twilio plays them, on a
thread of their own: the TwiML is fetched from Url (signed, with AnsweredBy when machine
detection was asked for), every <Say> is recorded with its language and voice, a <Gather> is
answered with the digits scripted for the number (posted, signed, to its action, whose TwiML is
played in turn), and the final status is posted, signed, to StatusCallback.

    twilio.set_call_behaviour("+12175550101", CallBehaviour(digits=["1"]))
    call = twilio.wait_call("+12175550101")        # played to its end
    call.spoken  -> [Spoken(text, language, voice), ...]
"""
from __future__ import annotations

import asyncio
import base64
import collections
import dataclasses
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from typing import Callable, Optional

DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "e2e-fake-twilio-auth-token"
API_VERSION = "2010-04-01"


def twilio_signature(auth_token: str, url: str, params) -> str:
    """X-Twilio-Signature: base64(HMAC-SHA1(auth_token, url + name1 + value1 + name2 + ...)) with
    the POST parameters sorted by name (and by value for repeated names)."""
    items = params.items() if hasattr(params, "items") else params
    data = url + "".join(k + v for k, v in sorted(items))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _error_body(status: int, code: int, message: str) -> dict:
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


@dataclasses.dataclass
class Reply:
    """One scripted answer. status 201 means "accept the message" (the normal success reply);
    anything else is sent as-is with a Twilio error body."""
    status: int = 201
    code: Optional[int] = None
    message: str = ""
    headers: dict = dataclasses.field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (the connection stays busy)

    @staticmethod
    def accept(delay: float = 0.0) -> "Reply":
        return Reply(201, delay=delay)

    @staticmethod
    def too_many_requests(retry_after: Optional[int] = 1) -> "Reply":
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Reply(429, 20429, "Too Many Requests", headers)

    @staticmethod
    def opted_out() -> "Reply":
        return Reply(400, 21610, "Attempt to send to unsubscribed recipient")

    @staticmethod
    def invalid_to() -> "Reply":
        return Reply(400, 21211, "Invalid 'To' Phone Number")

    @staticmethod
    def server_error() -> "Reply":
        return Reply(500, 20500, "Internal Server Error")

    @staticmethod
    def unavailable() -> "Reply":
        return Reply(503, 20503, "Service Unavailable")


@dataclasses.dataclass
class SentMessage:
    """A message the fake accepted (answered 201)."""
    sid: str
    account_sid: str
    to: str
    from_: str
    messaging_service_sid: str
    body: str
    status_callback: str
    params: dict
    received_at: float
    idempotency_key: str = ""  # the client's Idempotency-Key / I-Twilio-Idempotency-Token header


@dataclasses.dataclass
class RequestRecord:
    """Every Messages.json POST that passed authentication, whatever the answer was."""
    to: str
    body: str
    status: int
    code: Optional[int]
    received_at: float
    sid: str = ""  # the SID given to an accepted message
    params: dict = dataclasses.field(default_factory=dict)   # the form fields
    headers: dict = dataclasses.field(default_factory=dict)  # lower-cased names
    connection: int = 0  # which client connection it came on (1, 2, ... in order of opening)


@dataclasses.dataclass
class CallBehaviour:
    """How a called number behaves. answered_by: what machine detection reports (human,
    machine_end_beep, fax, ...; sent only when the call asked for MachineDetection). digits: what
    is keyed at each <Gather>, in order (none left: the Gather times out). status: the final
    CallStatus (completed, busy, no-answer, failed, canceled); a call that is not completed is
    never answered, so no TwiML is fetched. status_delay: seconds before the final status is posted."""
    answered_by: str = "human"
    digits: list = dataclasses.field(default_factory=list)
    status: str = "completed"
    status_delay: float = 0.3


@dataclasses.dataclass
class Spoken:
    text: str
    language: str
    voice: str


@dataclasses.dataclass
class FakeCall:
    """A call the fake accepted, and what happened on it."""
    sid: str
    to: str
    from_: str
    url: str
    status_callback: str
    params: dict
    behaviour: CallBehaviour
    spoken: list = dataclasses.field(default_factory=list)       # every <Say> played, in order
    twiml: list = dataclasses.field(default_factory=list)        # every TwiML document fetched
    answers: list = dataclasses.field(default_factory=list)      # (url, status) of each TwiML request
    gathers: list = dataclasses.field(default_factory=list)      # the <Gather> attributes met
    status_answer: Optional[tuple] = None                        # the daemon's answer to the final status
    error: str = ""                                               # what went wrong playing it
    done: bool = False


class FakeTwilio:
    def __init__(self, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = DEFAULT_AUTH_TOKEN,
                 host: str = "127.0.0.1", port: int = 0,
                 on_request: Optional[Callable[[RequestRecord], None]] = None):
        """on_request, if given, sees every RequestRecord before the client gets its answer."""
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self._requested_port = port
        self.port = 0
        self._lock = threading.Lock()
        self._queue: collections.deque[Reply] = collections.deque()
        self._per_to: dict[str, Reply] = {}
        self._messages: list[SentMessage] = []
        self._by_sid: dict[str, SentMessage] = {}
        self._requests: list[RequestRecord] = []
        self._auth_failures = 0
        self._connections = 0
        self._on_request = on_request
        self._default_delay = 0.0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._server = None
        self._thread: Optional[threading.Thread] = None
        self._expected_auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._calls: list[FakeCall] = []
        self._call_behaviour: dict[str, list[CallBehaviour]] = {}

    # -- lifecycle
    def start(self) -> "FakeTwilio":
        ready = threading.Event()
        failure: list[BaseException] = []

        def run():
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(loop.create_server(
                    lambda: _TwilioProtocol(self), self.host, self._requested_port, backlog=1024))
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as e:  # reported to the starting thread
                failure.append(e)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-twilio", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def gateway_env(self, name: str = "TWILIO", from_number: str = "+12175550000", **extra) -> dict:
        """Environment that makes heraldd's gateway NAME talk to this fake."""
        env = {f"HERALD_GATEWAYS_{name}_TYPE": "twilio",
               f"HERALD_GATEWAYS_{name}_ACCOUNT_SID": self.account_sid,
               f"HERALD_GATEWAYS_{name}_AUTH_TOKEN": self.auth_token,
               f"HERALD_GATEWAYS_{name}_FROM": from_number,
               f"HERALD_GATEWAYS_{name}_BASE_URL": self.base_url}
        env.update({f"HERALD_GATEWAYS_{name}_{k.upper()}": str(v) for k, v in extra.items()})
        return env

    # -- scripting
    def queue(self, *replies: Reply) -> None:
        """The next requests (any To) get these replies, in order; afterwards the default."""
        with self._lock:
            self._queue.extend(replies)

    def set_behaviour(self, to: str, reply: Optional[Reply]) -> None:
        """Every request to this number gets `reply` (None restores the default)."""
        with self._lock:
            if reply is None:
                self._per_to.pop(to, None)
            else:
                self._per_to[to] = reply

    def set_delay(self, seconds: float) -> None:
        """Default replies wait this long before answering."""
        with self._lock:
            self._default_delay = seconds

    def set_call_behaviour(self, to: str, behaviour: Optional[CallBehaviour], *then: CallBehaviour) -> None:
        """Calls to this number behave so (None: answered by a person who keys nothing). With more
        behaviours, each call takes the next one and the last one stays (a number busy, then answered)."""
        with self._lock:
            if behaviour is None:
                self._call_behaviour.pop(to, None)
            else:
                self._call_behaviour[to] = [behaviour, *then]

    @property
    def calls(self) -> list[FakeCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, to: str) -> list[FakeCall]:
        with self._lock:
            return [c for c in self._calls if c.to == to]

    def wait_call(self, to: str, timeout: float = 15.0) -> FakeCall:
        """The first call to `to`, once it has been played to its end (final status posted)."""
        def finished(_):
            calls = self.calls_to(to)
            return bool(calls) and calls[0].done
        if not self.wait_for(finished, timeout):
            raise AssertionError(f"no finished call to {to} within {timeout} s (calls: {self.calls})")
        return self.calls_to(to)[0]

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._queue.clear()
            self._per_to.clear()
            self._messages.clear()
            self._by_sid.clear()
            self._requests.clear()
            self._default_delay = 0.0

    # -- what happened
    @property
    def messages(self) -> list[SentMessage]:
        with self._lock:
            return list(self._messages)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    @property
    def accepted_count(self) -> int:
        with self._lock:
            return len(self._messages)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def connections(self) -> int:
        """Client connections opened so far."""
        with self._lock:
            return self._connections

    @property
    def auth_failures(self) -> int:
        with self._lock:
            return self._auth_failures

    def messages_to(self, to: str) -> list[SentMessage]:
        with self._lock:
            return [m for m in self._messages if m.to == to]

    def requests_to(self, to: str) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self._requests if r.to == to]

    def counts_by_to(self) -> collections.Counter:
        with self._lock:
            return collections.Counter(m.to for m in self._messages)

    def counts_by_key(self) -> collections.Counter:
        """Accepted messages per client idempotency key (heraldd sends herald-<message id>)."""
        with self._lock:
            return collections.Counter(m.idempotency_key for m in self._messages)

    def counts_by_body(self) -> collections.Counter:
        with self._lock:
            return collections.Counter(m.body for m in self._messages)

    def message(self, sid: str) -> SentMessage:
        with self._lock:
            return self._by_sid[sid]

    def wait_for(self, predicate: Callable[["FakeTwilio"], bool], timeout: float = 15.0,
                 interval: float = 0.01) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    # -- callbacks to the daemon
    def status_callback_params(self, sid: str, status: str, error_code: Optional[str] = None) -> dict:
        m = self.message(sid)
        params = {"AccountSid": m.account_sid, "ApiVersion": API_VERSION, "From": m.from_,
                  "MessageSid": sid, "MessageStatus": status, "SmsSid": sid, "SmsStatus": status, "To": m.to}
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return params

    def send_status_callback(self, sid: str, status: str, error_code: Optional[str] = None,
                             url: Optional[str] = None, signature: Optional[str] = None,
                             params: Optional[dict] = None) -> tuple[int, str]:
        """POSTs a status callback for `sid` to its StatusCallback (or `url`), signed the way Twilio
        signs it. Returns (http status, body) of the daemon's answer."""
        target = url or self.message(sid).status_callback
        if not target:
            raise ValueError(f"message {sid} was sent without a StatusCallback")
        params = params if params is not None else self.status_callback_params(sid, status, error_code)
        sig = signature if signature is not None else twilio_signature(self.auth_token, target, params)
        return post_form(target, params, {"X-Twilio-Signature": sig})

    # -- request handling (runs on the fake's loop thread)
    def _connection_opened(self) -> int:
        with self._lock:
            self._connections += 1
            return self._connections

    def _record(self, record: RequestRecord) -> None:
        """Keeps a request (the caller holds the lock) and shows it to on_request."""
        self._requests.append(record)
        if self._on_request is not None:
            self._on_request(record)

    def _handle(self, method: str, path: str, headers: dict, body: bytes,
                connection: int = 0) -> tuple[int, dict, bytes, float]:
        parts = path.split("?", 1)[0].split("/")
        # ['', '2010-04-01', 'Accounts', sid, 'Messages.json']
        if len(parts) == 5 and parts[1] == API_VERSION and parts[2] == "Accounts" and parts[4] == "Messages.json":
            if method != "POST":
                return _json_reply(405, _error_body(405, 20004, "Method not allowed"))
            if headers.get("authorization") != self._expected_auth or parts[3] != self.account_sid:
                with self._lock:
                    self._auth_failures += 1
                r = _json_reply(401, {"code": 20003, "detail": "Your AccountSid or AuthToken was incorrect.",
                                      "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003",
                                      "status": 401})
                r[1]["WWW-Authenticate"] = 'Basic realm="Twilio API"'
                return r
            return self._create_message(body, headers, connection)
        if len(parts) == 5 and parts[1] == API_VERSION and parts[2] == "Accounts" and parts[4] == "Calls.json":
            if method != "POST":
                return _json_reply(405, _error_body(405, 20004, "Method not allowed"))
            if headers.get("authorization") != self._expected_auth or parts[3] != self.account_sid:
                with self._lock:
                    self._auth_failures += 1
                return _json_reply(401, _error_body(401, 20003, "Authenticate"))
            return self._create_call(body)
        if len(parts) == 6 and parts[1] == API_VERSION and parts[2] == "Accounts" and parts[4] == "Messages" \
                and parts[5].endswith(".json") and method == "GET":
            if headers.get("authorization") != self._expected_auth:
                return _json_reply(401, _error_body(401, 20003, "Authenticate"))
            with self._lock:
                m = self._by_sid.get(parts[5][:-5])
            if m is None:
                return _json_reply(404, _error_body(404, 20404, "The requested resource was not found"))
            return _json_reply(200, self._resource(m, "queued"))
        return _json_reply(404, _error_body(404, 20404, f"The requested resource {path} was not found"))

    def _create_message(self, body: bytes, headers: dict, connection: int = 0):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        params = {k: v[0] for k, v in form.items()}
        to = params.get("To", "")
        from_ = params.get("From", "")
        mss = params.get("MessagingServiceSid", "")
        text = params.get("Body", "")
        now = time.time()
        request_headers = dict(headers)  # `headers` is reused below for the reply's

        def record(status: int, code: Optional[int], sid: str = "") -> RequestRecord:
            return RequestRecord(to, text, status, code, now, sid, params, request_headers, connection)

        if not to:
            return self._refuse(record, Reply(400, 21604, "A 'To' phone number is required."))
        if not from_ and not mss:
            return self._refuse(record, Reply(400, 21603, "A 'From' phone number is required."))
        if not text and "MediaUrl" not in params:
            return self._refuse(record, Reply(400, 21602, "Message body is required."))
        with self._lock:
            reply = self._per_to.get(to)
            if reply is None and self._queue:
                reply = self._queue.popleft()
            delay = self._default_delay if reply is None else reply.delay
            if reply is None or reply.status == 201:
                sid = "SM" + secrets.token_hex(16)
                key = headers.get("idempotency-key") or headers.get("i-twilio-idempotency-token", "")
                m = SentMessage(sid, self.account_sid, to, from_, mss, text, params.get("StatusCallback", ""),
                                params, now, key)
                self._messages.append(m)
                self._by_sid[sid] = m
                self._record(record(201, None, sid))
                status, headers, payload, _ = _json_reply(201, self._resource(m, "queued"))
                return status, headers, payload, delay
            self._record(record(reply.status, reply.code))
        status, headers, payload, _ = _json_reply(reply.status, _error_body(reply.status, reply.code or 0, reply.message))
        headers.update(reply.headers)
        return status, headers, payload, delay

    def _create_call(self, body: bytes):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        params = {k: v[0] for k, v in form.items()}
        to, from_, url = params.get("To", ""), params.get("From", ""), params.get("Url", "")
        if not to:
            return _json_reply(400, _error_body(400, 21201, "No 'To' number is specified"))
        if not from_:
            return _json_reply(400, _error_body(400, 21213, "No 'From' number is specified"))
        if not url and "Twiml" not in params:
            return _json_reply(400, _error_body(400, 21205, "Url parameter is required"))
        with self._lock:
            queued = self._call_behaviour.get(to, [CallBehaviour()])
            behaviour = queued.pop(0) if len(queued) > 1 else queued[0]
            call = FakeCall("CA" + secrets.token_hex(16), to, from_, url, params.get("StatusCallback", ""), params,
                            dataclasses.replace(behaviour, digits=list(behaviour.digits)))
            self._calls.append(call)
        threading.Thread(target=self._play, args=(call,), name=f"fake-call-{call.sid}", daemon=True).start()
        created = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        return _json_reply(201, {"account_sid": self.account_sid, "api_version": API_VERSION, "sid": call.sid,
                                 "to": to, "from": from_, "status": "queued", "direction": "outbound-api",
                                 "date_created": created, "answered_by": None,
                                 "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{call.sid}.json"})

    # -- playing a call (on its own thread, like Twilio's media servers)
    def _call_params(self, call: FakeCall, status: str) -> dict:
        return {"AccountSid": self.account_sid, "ApiVersion": API_VERSION, "CallSid": call.sid,
                "CallStatus": status, "Called": call.to, "Caller": call.from_, "Direction": "outbound-api",
                "From": call.from_, "To": call.to}

    def _signed_post(self, url: str, params: dict) -> tuple[int, str]:
        return post_form(url, params, {"X-Twilio-Signature": twilio_signature(self.auth_token, url, params)})

    def _play(self, call: FakeCall) -> None:
        try:
            b = call.behaviour
            if b.status == "completed" and call.url:
                params = self._call_params(call, "in-progress")
                if call.params.get("MachineDetection"):
                    params["AnsweredBy"] = b.answered_by
                self._run_twiml(call, call.url, params)
            time.sleep(b.status_delay)
            if call.status_callback:
                params = self._call_params(call, b.status)
                params["CallDuration"] = "12" if b.status == "completed" else "0"
                call.status_answer = self._signed_post(call.status_callback, params)
        except Exception as e:  # shown to the test through call.error
            call.error = repr(e)
        finally:
            call.done = True

    def _run_twiml(self, call: FakeCall, url: str, params: dict, depth: int = 0) -> None:
        status, text = self._signed_post(url, params)
        call.answers.append((url, status))
        if status != 200:
            call.error = f"TwiML request {url} answered {status}: {text[:300]}"
            return
        call.twiml.append(text)
        root = ElementTree.fromstring(text)
        for verb in root:
            if verb.tag == "Say":
                self._say(call, verb)
            elif verb.tag == "Hangup":
                return
            elif verb.tag == "Gather":
                call.gathers.append(dict(verb.attrib))
                for inner in verb:
                    if inner.tag == "Say":
                        self._say(call, inner)
                if not call.behaviour.digits:
                    continue  # timed out: Twilio goes on with the next verb
                digits = call.behaviour.digits.pop(0)
                action = urllib.parse.urljoin(url, verb.attrib.get("action", url))
                if depth > 5:
                    raise AssertionError("gathered more than five times on one call")
                self._run_twiml(call, action, {**self._call_params(call, "in-progress"), "Digits": digits,
                                               "FinishedOnKey": ""}, depth + 1)
                return  # the action's TwiML replaces the rest of this document

    @staticmethod
    def _say(call: FakeCall, element) -> None:
        call.spoken.append(Spoken(element.text or "", element.attrib.get("language", ""),
                                  element.attrib.get("voice", "")))

    def _refuse(self, record, reply: Reply):
        with self._lock:
            self._record(record(reply.status, reply.code))
        return _json_reply(reply.status, _error_body(reply.status, reply.code, reply.message))

    def _resource(self, m: SentMessage, status: str) -> dict:
        created = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(m.received_at))
        uri = f"/{API_VERSION}/Accounts/{m.account_sid}/Messages/{m.sid}"
        segments = max(1, -(-len(m.body) // 153)) if len(m.body) > 160 else 1
        return {"account_sid": m.account_sid, "api_version": API_VERSION, "body": m.body,
                "date_created": created, "date_sent": None, "date_updated": created,
                "direction": "outbound-api", "error_code": None, "error_message": None,
                "from": m.from_ or None, "messaging_service_sid": m.messaging_service_sid or None,
                "num_media": "0", "num_segments": str(segments), "price": None, "price_unit": "USD",
                "sid": m.sid, "status": status, "subresource_uris": {"media": uri + "/Media.json"},
                "to": m.to, "uri": uri + ".json"}


def _json_reply(status: int, obj: dict):
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(obj).encode(), 0.0


_REASONS = {100: "Continue", 200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized",
            404: "Not Found", 405: "Method Not Allowed", 411: "Length Required", 429: "Too Many Requests",
            500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable"}


class _TwilioProtocol(asyncio.Protocol):
    """Minimal HTTP/1.1 server side: keep-alive, Content-Length bodies, Expect: 100-continue.
    Requests on one connection are answered in order (a delayed reply holds the ones behind it)."""

    def __init__(self, fake: FakeTwilio):
        self.fake = fake
        self.connection = 0
        self.buf = bytearray()
        self.transport = None
        self.pending: Optional[tuple] = None  # (method, path, headers, content_length, keep_alive)
        self.busy = False
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport
        self.connection = self.fake._connection_opened()

    def connection_lost(self, exc):
        self.closed = True

    def data_received(self, data):
        self.buf += data
        self._process()

    def _process(self):
        while not self.busy and not self.closed:
            if self.pending is None:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buf) > 65536:
                        self._fail(431)
                    return
                head = bytes(self.buf[:end]).decode("latin-1")
                del self.buf[:end + 4]
                lines = head.split("\r\n")
                try:
                    method, target, version = lines[0].split(" ", 2)
                except ValueError:
                    self._fail(400)
                    return
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    self._fail(501)
                    return
                try:
                    length = int(headers.get("content-length", "0"))
                except ValueError:
                    self._fail(400)
                    return
                conn = headers.get("connection", "").lower()
                keep_alive = conn != "close" if version == "HTTP/1.1" else conn == "keep-alive"
                self.pending = (method, target, headers, length, keep_alive)
                if length > len(self.buf) and headers.get("expect", "").lower() == "100-continue":
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            method, target, headers, length, keep_alive = self.pending
            if len(self.buf) < length:
                return
            body = bytes(self.buf[:length])
            del self.buf[:length]
            self.pending = None
            try:
                status, rheaders, payload, delay = self.fake._handle(method, target, headers, body, self.connection)
            except Exception as e:  # a bug in the fake must show, not hang the client
                status, rheaders, payload, delay = 500, {"Content-Type": "text/plain"}, repr(e).encode(), 0.0
            response = self._encode(status, rheaders, payload, keep_alive)
            if delay > 0:
                self.busy = True
                asyncio.get_running_loop().call_later(delay, self._send_later, response, keep_alive)
                return
            self.transport.write(response)
            if not keep_alive:
                self.transport.close()
                return

    def _send_later(self, response, keep_alive):
        self.busy = False
        if self.closed:
            return
        self.transport.write(response)
        if not keep_alive:
            self.transport.close()
            return
        self._process()

    @staticmethod
    def _encode(status, headers, payload, keep_alive) -> bytes:
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
                f"Content-Length: {len(payload)}",
                "Connection: keep-alive" if keep_alive else "Connection: close",
                "Twilio-Request-Id: RQ" + secrets.token_hex(16)]
        head += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload

    def _fail(self, status):
        payload = json.dumps(_error_body(status, 0, _REASONS.get(status, "Bad Request"))).encode()
        self.transport.write(self._encode(status, {"Content-Type": "application/json"}, payload, False))
        self.transport.close()
        self.closed = True


def post_form(url: str, params: dict, headers: Optional[dict] = None, timeout: float = 15) -> tuple[int, str]:
    """POST application/x-www-form-urlencoded; returns (status, body text) for any HTTP answer."""
    data = urllib.parse.urlencode(params).encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
