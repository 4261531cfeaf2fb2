"""Dispatch workers overlap: email goes out through SMTP while Twilio is stuck on slow answers."""
from herald_e2e import bill_ready, create_customer, poll, post_event, preferences

SMS_DELAY = 5.0  # seconds the fake Twilio waits before answering
# One SMS: a gateway takes one batch at a time, so a second SMS leased by another worker would
# only start when the first is answered.
SMS_COUNT = 1
EMAIL_COUNT = 3


def statuses(database, channel: str) -> list[str]:
    return database.sql(f"SELECT status FROM herald.messages WHERE channel = '{channel}' ORDER BY id").split()


def test_email_batch_is_sent_while_a_twilio_batch_is_stuck_on_a_slow_provider(start_herald, gateways, fake_twilio,
                                                                              smtp_sink, database):
    h = start_herald(gateways(fake_twilio, smtp_sink, workers=2))
    for i in range(SMS_COUNT):
        create_customer(h.cis, f"S-{i}", preferences(billing=("sms",), other=()), phone=f"+121755501{i:02d}",
                        account_id=f"A-S-{i}")
    for i in range(EMAIL_COUNT):
        create_customer(h.cis, f"E-{i}", preferences(billing=("email",), outage=(), other=()), email=f"e{i}@example.com",
                        account_id=f"A-E-{i}")

    fake_twilio.set_delay(SMS_DELAY)
    for i in range(SMS_COUNT):
        post_event(h.cis, bill_ready(f"sms-{i}", f"A-S-{i}"))
    assert fake_twilio.wait_for(lambda t: t.request_count == SMS_COUNT, timeout=30), \
        f"the SMS sends did not start: {fake_twilio.request_count} requests"

    for i in range(EMAIL_COUNT):
        post_event(h.cis, bill_ready(f"email-{i}", f"A-E-{i}"))
    poll(lambda: statuses(database, "email") == ["sent"] * EMAIL_COUNT, timeout=30, what="every email recorded sent",
         show=lambda: statuses(database, "email"))
    # The Twilio answers are still on their way: the email did not wait for them.
    assert "sent" not in statuses(database, "sms"), statuses(database, "sms")
    assert len(smtp_sink.messages) == EMAIL_COUNT

    poll(lambda: statuses(database, "sms") == ["sent"] * SMS_COUNT, timeout=60, what="every SMS recorded sent",
         show=lambda: statuses(database, "sms"))
    order = database.scalar("SELECT (SELECT max(sent_at) FROM herald.messages WHERE channel = 'email') "
                            "< (SELECT min(sent_at) FROM herald.messages WHERE channel = 'sms')")
    assert order == "t", "an email was recorded sent after an SMS"
