"""Priority lanes through the running daemon: with a storm's backlog of 100,000 outage texts
queued and going out, a contact verification code posted on the web reaches the fake Twilio
within two seconds (issue 10's bound), ahead of the backlog."""
import time

from herald_e2e import create_customer, poll

NEW_PHONE = "+12175550199"
BACKLOG = 100_000
OUTAGE_LANE = 2  # Lane::outage (0017)


def queue_outage_backlog(database, count: int) -> None:
    """count outage texts, due now, written set-based the way a fan-out writes them."""
    database.sql(f"""
        WITH m AS (
          INSERT INTO herald.messages (event_id, customer_id, account_id, channel, address, type, topic, language,
                                       body, segments, encoding, status, not_before, expires_at)
          SELECT 'storm-' || i, 'S-' || i, 'SA-' || i, 'sms', '+1312' || (2000000 + i), 'notice.broadcast', 'outage',
                 'en', 'Power is out in your area. Crews are on the way.', 1, 'GSM-7', 'queued', now(),
                 now() + interval '1 day'
          FROM generate_series(1, {count}) AS i
          RETURNING id
        )
        INSERT INTO herald.message_queue (message_id, due_at, lane) SELECT id, now(), {OUTAGE_LANE} FROM m;
        NOTIFY herald_messages;
    """)


def test_a_verification_code_overtakes_a_storm_backlog(start_herald, gateways, fake_twilio, database):
    h = start_herald(gateways(fake_twilio, None))
    create_customer(h.cis, "C-1", email="ada@example.com", account_id="A-1")
    token = h.cis.post("/v1/customers/C-1/portal-tokens").json()["token"]
    customer = h.cis.with_token(token)

    queue_outage_backlog(database, BACKLOG)
    # The backlog is being sent (the workers are in the middle of outage rounds) before the code is asked for.
    poll(lambda: fake_twilio.accepted_count >= 1000, timeout=60, what="the outage backlog to start going out")

    posted = time.time()
    r = customer.post("/v1/customers/C-1/contacts", {"channel": "sms", "address": NEW_PHONE})
    assert r.status == 202, r
    poll(lambda: fake_twilio.messages_to(NEW_PHONE), timeout=30, what="the code text at the fake Twilio")
    latency = fake_twilio.messages_to(NEW_PHONE)[0].received_at - posted
    sent_before = sum(1 for m in fake_twilio.messages if m.received_at < posted + latency)
    waiting = int(database.scalar("SELECT count(*) FROM herald.message_queue"))
    print(f"\nverification code sent {latency * 1000:.0f} ms after the POST; "
          f"{sent_before} outage texts had gone out, {waiting} still queued")
    assert waiting > BACKLOG // 2, "the backlog drained before the code was asked for: the test proves nothing"
    assert latency <= 2.0, f"the code took {latency:.2f} s behind the outage backlog (bound: 2 s)"
