"""Crash and shutdown: kill -9 in the middle of 10,000 dispatches loses nothing and re-sends at most
one leased batch; SIGTERM finishes or releases what it leased and exits 0 within the grace period."""
import collections
import concurrent.futures
import time

from fake_twilio import Reply
from herald_e2e import bill_ready, customer_body, daytime_zone, poll, preferences

COUNT = 10_000     # messages
CUSTOMERS = 1_000  # ten bill.ready events each: loading 10,000 customers would dominate the run
BATCH = 200


def phone(i: int) -> str:
    return f"+1217555{i:04d}"


def load_customers(api, n: int) -> None:
    """n customers with one SMS contact each, sms on for billing; PUTs run concurrently. They all live
    in one zone where it is daytime now, so nothing is held for quiet hours whatever the hour of the run."""
    zone = daytime_zone()

    def put(i):
        r = api.put(f"/v1/customers/C-{i}", customer_body(f"C-{i}", phone=phone(i), tz=zone))
        assert r.status == 200, (i, r)
        return i

    first = put(0)
    prefs = api.get(f"/v1/customers/C-{first}/preferences").json()
    needs_prefs = "sms" not in prefs["topics"]["billing"]["channels"]

    def put_all(i):
        if i != first:
            put(i)
        if needs_prefs:
            r = api.put(f"/v1/customers/C-{i}/preferences", preferences(billing=("sms",), other=()))
            assert r.status == 200, (i, r)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(put_all, range(n)))


def post_events(api, n: int, prefix: str, customers: int) -> None:
    for start in range(0, n, 1000):
        events = [bill_ready(f"{prefix}-{i}", f"A-C-{i % customers}", amount=f"{10 + i % 90}.{i % 100:02d}")
                  for i in range(start, min(n, start + 1000))]
        r = api.post("/v1/events/batch", {"events": events})
        assert r.status in (200, 207), r
        assert all(x["status"] == "accepted" for x in r.json()["results"]), r.json()["results"][:3]


def sms_status_counts(database) -> dict:
    return {s: int(c) for s, c in database.rows("SELECT status, count(*) FROM herald.messages "
                                                 "WHERE channel = 'sms' GROUP BY status")}


def leased_sms(database) -> int:
    return int(database.scalar("SELECT count(*) FROM herald.message_queue q JOIN herald.messages m ON m.id = q.message_id "
                               "WHERE m.channel = 'sms' AND q.lease_owner IS NOT NULL"))


def test_kill_9_during_10000_dispatches_then_restart_sends_each_once_but_one_batch(start_herald, gateways,
                                                                                   fake_twilio, database):
    env = gateways(fake_twilio, None, lease_seconds=2, batch_size=BATCH, backoff_base_ms=100)
    env.update(fake_twilio.gateway_env("TWILIO", rate_per_second=100000, burst=100000))
    h = start_herald(env)
    t0 = time.monotonic()
    load_customers(h.cis, CUSTOMERS)
    t1 = time.monotonic()
    post_events(h.cis, COUNT, "bill", CUSTOMERS)
    print(f"customers loaded in {t1 - t0:.1f} s, events posted in {time.monotonic() - t1:.1f} s")

    assert fake_twilio.wait_for(lambda t: t.accepted_count >= COUNT * 0.3, timeout=120, interval=0.002), \
        f"dispatch did not get going: {fake_twilio.accepted_count} accepted"
    h.kill9()
    at_kill = fake_twilio.accepted_count
    assert at_kill < COUNT, "every message was sent before the kill; nothing was tested"
    leased_at_kill = leased_sms(database)
    print(f"killed after {time.monotonic() - t1:.1f} s with {at_kill} accepted, {leased_at_kill} SMS leased")

    h.start()
    t2 = time.monotonic()
    poll(lambda: sms_status_counts(database) == {"sent": COUNT}, timeout=180, interval=0.25,
         what=f"all {COUNT} SMS sent after restart", show=lambda: sms_status_counts(database))
    print(f"all sent {time.monotonic() - t2:.1f} s after the restart")
    poll(lambda: database.scalar("SELECT count(*) FROM herald.events WHERE status <> 'processed'") == "0",
         timeout=5, what="every event processed")

    # Each message is identified at the fake by the idempotency key heraldd sends (herald-<id>) and,
    # independently, by its body (it carries the event's bill URL).
    messages = fake_twilio.messages
    by_key = collections.Counter(m.idempotency_key for m in messages)
    assert "" not in by_key, "heraldd sent a message without an idempotency key"
    stored = {f"herald-{i}" for i in database.sql("SELECT id FROM herald.messages WHERE channel = 'sms'").split()}
    assert len(stored) == COUNT
    assert set(by_key) == stored, f"lost: {len(stored - set(by_key))} messages never reached the fake"
    duplicates = {k: c for k, c in by_key.items() if c > 1}
    assert all(c == 2 for c in duplicates.values()), duplicates
    # Only rows leased at the kill may be sent again, and the issue allows one batch of them.
    assert len(duplicates) <= leased_at_kill, (len(duplicates), leased_at_kill)
    assert len(duplicates) <= BATCH, (f"{len(duplicates)} messages sent twice (more than one leased batch of "
                                      f"{BATCH}); {at_kill} accepted at the kill, {leased_at_kill} SMS leased")
    by_body = collections.Counter(m.body for m in messages)
    assert len(by_body) == COUNT and sorted(by_body.values()) == sorted(by_key.values())
    print(f"{len(duplicates)} sent twice, none lost")


def test_sigterm_finishes_or_releases_leased_messages_and_exits_zero(start_herald, gateways, fake_twilio, database):
    grace = 10
    env = gateways(fake_twilio, None, lease_seconds=60, batch_size=50)
    env["HERALD_SERVER_SHUTDOWN_GRACE_SECONDS"] = str(grace)
    h = start_herald(env)
    n = 300
    load_customers(h.cis, n)
    fake_twilio.set_delay(1.0)  # every send takes a second: SIGTERM lands while a batch is in flight
    post_events(h.cis, n, "bill", n)

    assert fake_twilio.wait_for(lambda t: t.request_count > 0, timeout=30), "no send started"
    assert leased_sms(database) > 0
    signalled = time.monotonic()
    rc = h.terminate(timeout=grace + 20)
    took = time.monotonic() - signalled
    assert rc == 0, f"exit code {rc}"
    assert took <= grace + 2, f"exited {took:.1f} s after SIGTERM (grace {grace} s)"

    counts = sms_status_counts(database)
    assert leased_sms(database) == 0, f"leases left behind: {counts}"
    assert counts.get("sending", 0) == 0, f"attempted but unfinished messages left behind: {counts}"
    # Whatever the fake accepted is recorded as sent: nothing would be sent twice on restart.
    accepted = {m.to for m in fake_twilio.messages}
    sent = set(database.sql("SELECT address FROM herald.messages WHERE channel = 'sms' AND status = 'sent'").split())
    assert accepted == sent, (len(accepted), len(sent))
    assert counts.get("queued", 0) + counts.get("sent", 0) == n, counts

    fake_twilio.set_delay(0)
    h.start()
    poll(lambda: sms_status_counts(database) == {"sent": n}, timeout=60, what="all sent after restart",
         show=lambda: sms_status_counts(database))
    assert collections.Counter(m.to for m in fake_twilio.messages).most_common(1)[0][1] == 1
