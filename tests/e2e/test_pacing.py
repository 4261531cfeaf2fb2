"""Paced sends through the running daemon: an SMS gateway limited to a few messages a second,
with a backlog queued, is stopped while its dispatch rounds wait for tokens they booked up to
15 s ahead. The drain hands the waiting messages back to the queue at once instead of sending
them first, inside a grace far shorter than those waits, and nothing is lost or sent twice.
And emails queued behind a rate-limited SMS backlog in the same lane go out while the backlog
still waits for its tokens: the waits belong to the SMS gateway's sender, not to the workers."""
from herald_e2e import poll

RATE = 5  # messages per second
BACKLOG = 300
STANDARD_LANE = 3  # Lane::standard (0017)


def queue_backlog(database, count: int, due: str = "now()") -> None:
    """count SMS due at `due` (SQL), written set-based."""
    database.sql(f"""
        WITH m AS (
          INSERT INTO herald.messages (event_id, customer_id, account_id, channel, address, type, topic, language,
                                       body, segments, encoding, status, not_before, expires_at)
          SELECT 'paced-' || i, 'P-' || i, 'PA-' || i, 'sms', '+1312' || (3000000 + i), 'bill.ready', 'billing',
                 'en', 'Your bill is ready.', 1, 'GSM-7', 'queued', now(), now() + interval '1 day'
          FROM generate_series(1, {count}) AS i
          RETURNING id
        )
        INSERT INTO herald.message_queue (message_id, due_at, lane) SELECT id, {due}, {STANDARD_LANE} FROM m;
        NOTIFY herald_messages;
    """)


def queue_emails(database, count: int) -> None:
    """count emails of the same lane, due now: behind an SMS backlog due earlier."""
    database.sql(f"""
        WITH m AS (
          INSERT INTO herald.messages (event_id, customer_id, account_id, channel, address, type, topic, language,
                                       subject, body, status, not_before, expires_at)
          SELECT 'mail-' || i, 'M-' || i, 'MA-' || i, 'email', 'reader' || i || '@example.com', 'bill.ready',
                 'billing', 'en', 'Your bill', 'Your bill is ready.', 'queued', now(), now() + interval '1 day'
          FROM generate_series(1, {count}) AS i
          RETURNING id
        )
        INSERT INTO herald.message_queue (message_id, due_at, lane) SELECT id, now(), {STANDARD_LANE} FROM m;
        NOTIFY herald_messages;
    """)


def test_a_drain_hands_back_sends_waiting_for_their_tokens(start_herald, gateways, fake_twilio, database):
    env = gateways(fake_twilio, None)
    env.update(fake_twilio.gateway_env("TWILIO", rate_per_second=RATE, burst=1))
    # Half the default 30 s lease is booked ahead; the daemon exits 1 if the drain outlasts 4 s.
    env.update({"HERALD_SERVER_SHUTDOWN_GRACE_SECONDS": "4", "HERALD_SERVER_DRAIN_DELAY_SECONDS": "0"})
    h = start_herald(env)
    queue_backlog(database, BACKLOG)
    poll(lambda: fake_twilio.accepted_count >= 3, timeout=30, what="the first paced sends")

    assert h.terminate(timeout=30) == 0, h.log_tail()
    sent = fake_twilio.accepted_count
    ids = {m.idempotency_key for m in fake_twilio.messages}
    assert len(ids) == sent, "a message was sent twice"
    assert int(database.scalar("SELECT count(*) FROM herald.messages WHERE status = 'sent'")) == sent
    assert int(database.scalar("SELECT count(*) FROM herald.message_queue WHERE lease_owner IS NOT NULL")) == 0
    assert int(database.scalar("SELECT count(*) FROM herald.message_queue")) == BACKLOG - sent


SMS_RATE = 100  # high enough that each worker's share of a batch (500) gets its tokens within half the lease
SMS_BACKLOG = 2000
EMAILS = 50


def test_emails_behind_a_rate_limited_sms_backlog_go_out_while_it_waits(start_herald, gateways, fake_twilio,
                                                                         smtp_sink, database):
    env = gateways(fake_twilio, smtp_sink)
    env.update(fake_twilio.gateway_env("TWILIO", rate_per_second=SMS_RATE, burst=1))
    env.update(smtp_sink.gateway_env("SMTP", rate_per_second=100000, burst=100000))
    env.update({"HERALD_SERVER_SHUTDOWN_GRACE_SECONDS": "10", "HERALD_SERVER_DRAIN_DELAY_SECONDS": "0"})
    h = start_herald(env)
    queue_backlog(database, SMS_BACKLOG, due="now() - interval '1 minute'")  # claimed before the emails
    queue_emails(database, EMAILS)

    poll(lambda: len(smtp_sink.messages) >= EMAILS, timeout=60, what="every email",
         show=lambda: f"{len(smtp_sink.messages)} emails, {fake_twilio.accepted_count} SMS")
    sms_by_then = fake_twilio.accepted_count
    # Workers held by paced rounds would have sent three rounds of SMS (1,500) before reaching the emails.
    assert sms_by_then < SMS_BACKLOG // 2, f"{sms_by_then} SMS went out before the last email"

    assert h.terminate(timeout=30) == 0, h.log_tail()
    sent = fake_twilio.accepted_count
    assert len({m.idempotency_key for m in fake_twilio.messages}) == sent, "an SMS was sent twice"
    assert len(smtp_sink.messages) == EMAILS
    assert int(database.scalar("SELECT count(*) FROM herald.messages WHERE status = 'sent'")) == sent + EMAILS
    assert int(database.scalar("SELECT count(*) FROM herald.message_queue WHERE lease_owner IS NOT NULL")) == 0
    assert int(database.scalar("SELECT count(*) FROM herald.message_queue")) == SMS_BACKLOG - sent
