"""Fixtures for the end-to-end tests: a fresh database per test in the ctest Postgres cluster
(or a private cluster), local fake providers, and heraldd started the 12-factor way."""
import contextlib
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))

from fake_twilio import FakeTwilio  # noqa: E402
from herald_e2e import Heraldd, PgCluster, find_heraldd  # noqa: E402
from smtp_sink import SmtpSink  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        item._herald_failed = True
    if rep.when == "call" and rep.failed:
        for h in getattr(item, "_heralds", []):
            rep.sections.append((f"heraldd log (port {h.port}, {h.log_path})", h.log_tail(80)))


@pytest.fixture(scope="session")
def pg_cluster():
    cluster = PgCluster.from_env_or_private()
    yield cluster
    if cluster.owned:
        cluster.stop()


@pytest.fixture
def database(pg_cluster):
    db = pg_cluster.create_database()
    yield db
    db.drop()


@pytest.fixture(scope="session")
def heraldd_binary():
    return find_heraldd()


@pytest.fixture
def fake_twilio():
    t = FakeTwilio().start()
    yield t
    t.stop()


@pytest.fixture
def smtp_sink():
    s = SmtpSink().start()
    yield s
    s.stop()


@pytest.fixture
def start_herald(request, heraldd_binary, database):
    """start_herald(env={...}, database=db) -> a migrated, keyed, ready Heraldd. Every daemon still
    running at the end gets SIGTERM and must exit 0; so must every earlier graceful stop."""
    started = []
    request.node._heralds = started

    def start(env=None, db=None, port=None):
        h = Heraldd(heraldd_binary, (db or database).url, env, port)
        started.append(h)
        h.migrate()
        h.provision_keys()
        h.start()
        return h

    yield start
    failures = []
    for h in started:
        if h.running:
            rc = h.terminate(timeout=60)
            if rc != 0:
                failures.append(f"heraldd on port {h.port} exited {rc} after SIGTERM:\n{h.log_tail(40)}")
    assert not failures, "\n".join(failures)
    if not getattr(request.node, "_herald_failed", False):
        for h in started:  # logs of a passing test are noise; a failing one keeps them (path in the report)
            with contextlib.suppress(OSError):
                os.unlink(h.log_path)


def gateways_env(twilio=None, smtp=None, sms=None, email=None, voice="log", **dispatch):
    """Environment routing sms to the fake Twilio and email to the SMTP sink when given."""
    env = {"HERALD_CHANNELS_VOICE": voice}
    if twilio is not None:
        env.update(twilio.gateway_env("TWILIO", rate_per_second=1000, burst=1000))
    if smtp is not None:
        env.update(smtp.gateway_env("SMTP"))
    env["HERALD_CHANNELS_SMS"] = sms or ("twilio" if twilio is not None else "log")
    env["HERALD_CHANNELS_EMAIL"] = email or ("smtp" if smtp is not None else "log")
    env.update({f"HERALD_DISPATCH_{k.upper()}": str(v) for k, v in dispatch.items()})
    return env


@pytest.fixture
def gateways():
    return gateways_env
