#!/usr/bin/env python3
"""Runs one of the fakes as a process, for tests that are not written in Python (the gateway
integration tests): prints "PORT <n>" once it listens, writes one JSON line per request it gets to
--record before the client has its answer, and serves until it is killed.

    serve.py twilio --record FILE [--account-sid SID --auth-token TOKEN]
                    [--reply TO=accept|too_many_requests[:SECONDS]|opted_out|server_error|slow:SECONDS ...]
    serve.py smtp --record FILE [--login USER:PASSWORD] [--refuse ADDRESS=REPLY ...]
    serve.py kannel --record FILE [--username U --password P]
                    [--reply TO=accept|not_routable|temporal_failure ...]
    serve.py cis --record FILE [--secret SECRET] [--max-skew SECONDS]   (scripted over /_control/*)
    serve.py oms --record FILE [--secret SECRET] [--max-skew SECONDS] [--fail-first N]
                                                                        (scripted over /_control/*)
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio, Reply  # noqa: E402


class JsonLines:
    """Appends one JSON object per line, flushed at once (the test reads the file right after)."""

    def __init__(self, path: str):
        self._file = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, obj: dict) -> None:
        with self._lock:
            self._file.write(json.dumps(obj) + "\n")
            self._file.flush()


def parse_reply(spec: str) -> Reply:
    kind, _, arg = spec.partition(":")
    if kind == "accept":
        return Reply.accept()
    if kind == "slow":
        return Reply.accept(delay=float(arg or "1"))
    if kind == "too_many_requests":
        return Reply.too_many_requests(retry_after=int(arg) if arg else None)
    if kind == "opted_out":
        return Reply.opted_out()
    if kind == "server_error":
        return Reply.server_error()
    raise SystemExit(f"--reply: unknown kind {kind!r}")


def split_pair(spec: str, sep: str, option: str) -> tuple[str, str]:
    key, found, value = spec.partition(sep)
    if not found or not key:
        raise SystemExit(f"{option}: expected KEY{sep}VALUE, got {spec!r}")
    return key, value


def start_twilio(args, record: JsonLines):
    def on_request(r):
        record.write({"to": r.to, "body": r.body, "status": r.status, "code": r.code, "sid": r.sid,
                      "form": r.params, "headers": r.headers, "connection": r.connection})

    fake = FakeTwilio(args.account_sid, args.auth_token, on_request=on_request)
    for spec in args.reply:
        to, kind = split_pair(spec, "=", "--reply")
        fake.set_behaviour(to, parse_reply(kind))
    return fake.start()


def start_smtp(args, record: JsonLines):
    from smtp_sink import SmtpSink  # aiosmtpd is needed only here

    def on_message(m):
        record.write({"mail_from": m.envelope_from, "rcpt_tos": m.envelope_to, "authenticated": m.authenticated,
                      "content": m.raw.decode("utf-8", "replace")})

    credentials = split_pair(args.login, ":", "--login") if args.login else None
    sink = SmtpSink(credentials=credentials, on_message=on_message)
    for spec in args.refuse:
        address, reply = split_pair(spec, "=", "--refuse")
        sink.refuse_rcpt[address.lower()] = reply
    return sink.start()


def start_cis(args, record: JsonLines):
    from fake_cis import FakeCis

    skew = None if args.max_skew < 0 else args.max_skew
    return FakeCis(args.secret, max_skew_seconds=skew, on_request=record.write).start()


def start_oms(args, record: JsonLines):
    from fake_oms import FakeOms

    skew = None if args.max_skew < 0 else args.max_skew
    return FakeOms(args.secret, max_skew_seconds=skew, fail_first=args.fail_first, on_request=record.write).start()


def start_kannel(args, record: JsonLines):
    from fake_kannel import FakeKannel, Reply as KannelReply

    def on_request(r):
        record.write({"params": r.params, "status": r.status, "body": r.body})

    fake = FakeKannel(args.username, args.password, on_request=on_request)
    replies = {"accept": KannelReply.accept, "not_routable": KannelReply.not_routable,
               "temporal_failure": KannelReply.temporal_failure}
    for spec in args.reply:
        to, kind = split_pair(spec, "=", "--reply")
        if kind not in replies:
            raise SystemExit(f"--reply: unknown kind {kind!r}")
        fake.set_behaviour(to, replies[kind]())
    return fake.start()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="fake", required=True)
    tw = sub.add_parser("twilio")
    tw.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    tw.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    tw.add_argument("--reply", action="append", default=[], metavar="TO=KIND")
    sm = sub.add_parser("smtp")
    sm.add_argument("--login", metavar="USER:PASSWORD")
    sm.add_argument("--refuse", action="append", default=[], metavar="ADDRESS=REPLY")
    ci = sub.add_parser("cis")
    ci.add_argument("--secret", default="test-cis-secret")
    ci.add_argument("--max-skew", type=float, default=300.0, metavar="SECONDS", help="negative: not checked")
    om = sub.add_parser("oms")
    om.add_argument("--secret", default="test-oms-secret")
    om.add_argument("--max-skew", type=float, default=300.0, metavar="SECONDS", help="negative: not checked")
    om.add_argument("--fail-first", type=int, default=0, metavar="N", help="the first N signed requests get 503")
    kn = sub.add_parser("kannel")
    kn.add_argument("--username", default="herald")
    kn.add_argument("--password", default="kannel-password")
    kn.add_argument("--reply", action="append", default=[], metavar="TO=KIND")
    for p in (tw, sm, ci, om, kn):
        p.add_argument("--record", required=True, metavar="FILE")
    args = ap.parse_args()

    record = JsonLines(args.record)
    starters = {"twilio": start_twilio, "smtp": start_smtp, "cis": start_cis, "oms": start_oms, "kannel": start_kannel}
    server = starters[args.fake](args, record)
    print("PORT", server.port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # the fakes' threads are daemons: nothing to wait for
    threading.Event().wait()


if __name__ == "__main__":
    main()
