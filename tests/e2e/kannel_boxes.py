"""Real Kannel for end-to-end tests: bearerbox and smsbox (Debian `kannel`) with fakesmsc
(`kannel-extras`) as the SMSC, on free ports, each process stopped by its own pid.

    boxes = KannelBoxes(workdir, mo_url="http://127.0.0.1:PORT/v1/webhooks/kannel/mo?token=T").start()
    boxes.sendsms_url              # what Herald's kannel gateway sends to
    boxes.wait_mt("+12175550101")  # fakesmsc printed the MT it received
    boxes.send_mo("+12175550101", "12345", "STOP")
    boxes.stop()
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"

USERNAME = "herald"
PASSWORD = "kannel-e2e-password"


def installed() -> bool:
    return all(os.access(p, os.X_OK) for p in (BEARERBOX, SMSBOX, FAKESMSC))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate, timeout: float, what: str, show=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{show()}")
        time.sleep(0.05)


class KannelBoxes:
    def __init__(self, workdir: str, mo_url: str, smsc_number: str = "12345"):
        self.workdir = workdir
        self.mo_url = mo_url
        self.smsc_number = smsc_number
        self.admin_port, self.smsbox_port, self.smsc_port, self.sendsms_port = (_free_port() for _ in range(4))
        self._procs: dict[str, subprocess.Popen] = {}
        self._fakesmsc_logs: list[str] = []

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    def config(self) -> str:
        # A sendsms-user sends one SMS unless max-messages allows more: a longer text would be
        # cut at 160 septets (70 UCS-2 characters); concatenation = true joins the parts on the phone.
        # smsbox calls the MO get-url for every text (catch-all); the reply to it is the HTTP
        # body, sent back because max-messages is 1 (an empty body sends nothing: omit-empty).
        # A DLR that overtakes Herald recording its send is answered 503: http-request-retry
        # makes smsbox call again a second later.
        return f"""
group = core
admin-port = {self.admin_port}
admin-password = kannel-e2e-admin
smsbox-port = {self.smsbox_port}
box-allow-ip = 127.0.0.1
log-file = "{self.workdir}/bearerbox.log"
log-level = 1
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc_port}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {self.sendsms_port}
log-file = "{self.workdir}/smsbox.log"
log-level = 1
http-request-retry = 10
http-queue-delay = 1

group = sendsms-user
username = {USERNAME}
password = {PASSWORD}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = yes
max-messages = 1
omit-empty = true
get-url = "{self.mo_url}&from=%p&to=%P&text=%a&id=%I"
"""

    def start(self) -> "KannelBoxes":
        os.makedirs(self.workdir, exist_ok=True)
        path = os.path.join(self.workdir, "kannel.conf")
        with open(path, "w") as f:
            f.write(self.config())
        try:
            self._spawn("bearerbox", [BEARERBOX, path])
            _wait(lambda: _port_open(self.smsbox_port), 20, "bearerbox's smsbox port", self.logs)
            self._spawn("smsbox", [SMSBOX, path])
            _wait(lambda: _port_open(self.sendsms_port), 20, "smsbox's sendsms port", self.logs)
            self._start_fakesmsc()
        except BaseException:
            self.stop()  # a fixture that fails to start never reaches its teardown
            raise
        return self

    def _spawn(self, name: str, argv: list[str], log: str = "") -> subprocess.Popen:
        out = open(log or os.path.join(self.workdir, f"{name}.out"), "ab")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir)
        out.close()
        self._procs[name] = proc
        return proc

    def _start_fakesmsc(self, *messages: str) -> None:
        """fakesmsc is the SMSC: it prints every MT it gets and sends the given MOs (none: -m 0)."""
        name = f"fakesmsc-{len(self._fakesmsc_logs) + 1}"
        self._fakesmsc_logs.append(os.path.join(self.workdir, f"{name}.out"))
        # fakesmsc wants at least one message even when told to send none.
        argv = [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "0.1", "-m", str(len(messages)),
                *(messages or (f"{self.smsc_number} {self.smsc_number} text unused",))]
        connected = self._read(os.path.join(self.workdir, "bearerbox.log")).count("Fakesmsc client connected")
        self._spawn("fakesmsc", argv, self._fakesmsc_logs[-1])
        _wait(lambda: self._read(os.path.join(self.workdir, "bearerbox.log")).count("Fakesmsc client connected")
              > connected, 20, "fakesmsc to connect to bearerbox", self.logs)

    def send_mo(self, sender: str, receiver: str, text: str) -> None:
        """A text from a phone: a new fakesmsc connection that sends it once (and still prints MTs)."""
        self._stop_one("fakesmsc")
        self._start_fakesmsc(f"{sender} {receiver} text {text}")

    @staticmethod
    def _read(path: str) -> str:
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def mts(self) -> list[dict]:
        """Every MT the fakesmscs received, concatenated parts joined: {"from", "to", "parts",
        "coding" (text, ucs-2, or udh for joined parts, whose coding fakesmsc does not print),
        "data" (the bytes: UTF-8 for text, UTF-16BE for UCS-2)}."""
        singles, parts, seen = [], {}, set()
        for log in self._fakesmsc_logs:
            for m in re.finditer(r"Got message (\d+): <(.*)>", self._read(log)):
                if (log, m.group(1)) in seen:  # fakesmsc logs each line twice
                    continue
                seen.add((log, m.group(1)))
                fields = m.group(2).split(" ")
                sender, receiver, kind = fields[:3]
                if kind == "text":
                    singles.append({"from": sender, "to": receiver, "parts": 1, "coding": kind,
                                    "data": " ".join(fields[3:]).encode()})
                elif kind == "ucs-2":
                    singles.append({"from": sender, "to": receiver, "parts": 1, "coding": kind,
                                    "data": urllib.parse.unquote_to_bytes(fields[3].replace("+", "%20"))})
                elif kind == "udh":  # fields: udh <udh> data <payload>; UDH 05 00 03 ref total seq
                    udh = urllib.parse.unquote_to_bytes(fields[3].replace("+", "%20"))
                    payload = urllib.parse.unquote_to_bytes(fields[5].replace("+", "%20"))
                    key = (sender, receiver, udh[3])
                    parts.setdefault(key, {"total": udh[4], "got": {}})["got"][udh[5]] = payload
        joined = [{"from": k[0], "to": k[1], "parts": v["total"], "coding": "udh",
                   "data": b"".join(v["got"][i] for i in sorted(v["got"]))}
                  for k, v in parts.items() if len(v["got"]) == v["total"]]
        return singles + joined

    def wait_mt(self, to: str, count: int = 1, timeout: float = 20.0) -> list[dict]:
        got: list[dict] = []

        def check():
            got[:] = [m for m in self.mts() if m["to"] == to]
            return len(got) >= count
        _wait(check, timeout, f"{count} MT(s) to {to} at fakesmsc", self.logs)
        return got

    def logs(self) -> str:
        parts = []
        for name in ("bearerbox.log", "smsbox.log", *[os.path.basename(p) for p in self._fakesmsc_logs]):
            text = self._read(os.path.join(self.workdir, name))
            parts.append(f"--- {name} (last lines)\n" + "\n".join(text.splitlines()[-25:]))
        return "\n".join(parts)

    def _stop_one(self, name: str, timeout: float = 15.0) -> None:
        proc = self._procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop(self) -> None:
        # The SMSC and smsbox first: bearerbox waits for its boxes before it exits.
        for name in ("fakesmsc", "smsbox", "bearerbox"):
            self._stop_one(name)

    def remove(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def gateway_env(name: str, boxes: KannelBoxes, webhook_token: str, **extra) -> dict:
    env = {f"HERALD_GATEWAYS_{name}_TYPE": "kannel",
           f"HERALD_GATEWAYS_{name}_URL": boxes.sendsms_url,
           f"HERALD_GATEWAYS_{name}_USERNAME": USERNAME,
           f"HERALD_GATEWAYS_{name}_PASSWORD": PASSWORD,
           f"HERALD_GATEWAYS_{name}_FROM": boxes.smsc_number,
           f"HERALD_GATEWAYS_{name}_WEBHOOK_TOKEN": webhook_token}
    env.update({f"HERALD_GATEWAYS_{name}_{k.upper()}": str(v) for k, v in extra.items()})
    return env
