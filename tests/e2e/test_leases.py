"""Leases outlive every send: two instances against a slow fake Twilio never send a message twice,
and an instance frozen past its lease (SIGSTOP ... SIGCONT) does not send the chunks it had left
(only the rest of the one it was sending)."""
import collections
import os
import re
import signal

from herald_e2e import bill_ready, create_customer, poll, post_event, preferences

FROM_A, FROM_B = "+12175550001", "+12175550002"


def phone(i: int) -> str:
    return f"+1217555{i:04d}"


def start_two(start_herald, gateways, fake_twilio, twilio_settings: dict, **dispatch):
    """Instances A and B on one database, each sending from its own number."""
    def env(from_number):
        e = gateways(fake_twilio, None, **dispatch)
        e.update(fake_twilio.gateway_env("TWILIO", from_number=from_number, rate_per_second=1000, burst=1000,
                                         **twilio_settings))
        return e
    return start_herald(env(FROM_A)), start_herald(env(FROM_B))


def post_bills(h, n: int) -> None:
    for i in range(n):
        create_customer(h.cis, f"C-{i}", preferences(billing=("sms",), other=()), phone=phone(i), account_id=f"A-{i}")
    for i in range(n):
        post_event(h.cis, bill_ready(f"bill-{i}", f"A-{i}"))


def sent_count(database) -> int:
    return int(database.scalar("SELECT count(*) FROM herald.messages WHERE channel = 'sms' AND status = 'sent'"))


def instance_id(h) -> str:
    m = re.search(r"\(instance ([^)]+)\)", h.log_text())
    assert m, "heraldd did not log its instance id"
    return m.group(1)


def test_two_instances_and_a_provider_slower_than_the_lease_send_each_message_once(start_herald, gateways,
                                                                                    fake_twilio, database):
    n = 30
    a, b = start_two(start_herald, gateways, fake_twilio, {"timeout_ms": 20000}, lease_seconds=6)
    fake_twilio.set_delay(10.0)  # every answer takes longer than the lease
    post_bills(a, n)
    poll(lambda: sent_count(database) == n, timeout=120, interval=0.25, what=f"all {n} SMS sent",
         show=lambda: sent_count(database))
    by_key = fake_twilio.counts_by_key()
    stored = {f"herald-{i}" for i in database.sql("SELECT id FROM herald.messages WHERE channel = 'sms'").split()}
    assert set(by_key) == stored
    assert {k: c for k, c in by_key.items() if c > 1} == {}, "messages sent twice"


def test_an_instance_frozen_past_its_lease_does_not_send_its_remaining_chunks(start_herald, gateways, fake_twilio,
                                                                            database):
    n, concurrency, batch = 80, 5, 20
    a, b = start_two(start_herald, gateways, fake_twilio, {"max_concurrent": concurrency}, lease_seconds=4,
                     workers=1, batch_size=batch)
    fake_twilio.set_delay(1.0)
    a_id = instance_id(a)
    post_bills(a, n)

    from_a = lambda t: [m for m in t.messages if m.from_ == FROM_A]  # noqa: E731
    leased_by_a = lambda: int(database.scalar(  # noqa: E731
        f"SELECT count(*) FROM herald.message_queue WHERE lease_owner = '{a_id}'"))
    assert fake_twilio.wait_for(lambda t: len(from_a(t)) >= 10, timeout=60), "instance A did not get going"
    # Freeze A while it holds leases (not in the moment between recording a round and the next claim).
    for _ in range(50):
        os.kill(a.pid, signal.SIGSTOP)
        if leased_by_a() > 0:
            break
        os.kill(a.pid, signal.SIGCONT)
        fake_twilio.wait_for(lambda t: False, timeout=0.05)
    else:
        raise AssertionError("instance A never held a lease when frozen")
    try:
        # Frozen past its lease: every message A held lapses and is taken over by B. Frozen in the
        # middle of a transaction, A holds row locks that B's claims pass by (SKIP LOCKED) until
        # Postgres ends that transaction (database.idle_transaction_timeout_seconds, 10 s).
        poll(lambda: leased_by_a() == 0, timeout=60, interval=0.1, what="instance A's leases taken over")
        # What A sent before it froze, read only now: a request A wrote just before the stop may
        # reach the fake's loop late on a busy machine, and nothing from A can arrive while frozen.
        sent_by_a_before_stop = {m.idempotency_key for m in from_a(fake_twilio)}
        assert sent_count(database) < n, "everything was sent while A was frozen; nothing was tested"
    finally:
        os.kill(a.pid, signal.SIGCONT)

    poll(lambda: sent_count(database) == n, timeout=120, interval=0.25, what=f"all {n} SMS sent",
         show=lambda: sent_count(database))
    by_key = fake_twilio.counts_by_key()
    stored = {f"herald-{i}" for i in database.sql("SELECT id FROM herald.messages WHERE channel = 'sms'").split()}
    assert set(by_key) == stored
    duplicates = {k for k, c in by_key.items() if c > 1}
    # After it resumed, A sent nothing that B had taken over beyond the one chunk in flight: a
    # chunk's sends go out together right after its lease check, and the freeze may fall between
    # that check and the chunk's last request written (some of the chunk reached the fake before
    # the stop, the rest after). Everything else twice is what A had sent before it froze and not
    # yet recorded (its leased batch: the chunk in flight and those answered in the same round).
    after_resume = duplicates - sent_by_a_before_stop
    assert len(after_resume) <= concurrency, (sorted(after_resume), "A sent more than one chunk after it resumed")
    assert len(duplicates) <= batch, (len(duplicates), collections.Counter(by_key.values()))
