"""Dispatch against the fake Twilio: 429 is retried after Retry-After, 21610 is final and opts the
number out, a dead gateway fails over to the channel's next one."""
from fake_twilio import Reply
from herald_e2e import bill_ready, create_customer, event_messages, message, post_event, preferences, wait_message_status

PHONE = "+12175550123"


def start(start_herald, gateways, fake_twilio, **extra):
    env = gateways(fake_twilio, None, backoff_base_ms=100, **extra.pop("dispatch", {}))
    env.update(extra.pop("env", {}))
    h = start_herald(env)
    create_customer(h.cis, "C-1", preferences(billing=("sms",), other=()), phone=PHONE, account_id="A-1")
    return h


def test_429_then_201_is_sent_once_after_two_attempts_honouring_retry_after(start_herald, gateways, fake_twilio):
    h = start(start_herald, gateways, fake_twilio)
    fake_twilio.queue(Reply.too_many_requests(retry_after=1))
    post_event(h.cis, bill_ready("e-429", "A-1"))

    sms = event_messages(h.admin, "e-429")["sms"]
    sent = wait_message_status(h.admin, sms["id"], "sent", timeout=20)

    requests = fake_twilio.requests_to(PHONE)
    assert [r.status for r in requests] == [429, 201], requests
    assert requests[1].received_at - requests[0].received_at >= 0.95, "Retry-After: 1 was not honoured"
    assert len(fake_twilio.messages_to(PHONE)) == 1
    attempts = sent["attempts"]
    assert [a["outcome"] for a in attempts] == ["retry", "sent"], attempts
    assert attempts[0]["http_status"] == 429 and attempts[0]["gateway"] == "twilio", attempts
    assert attempts[1]["http_status"] == 201, attempts
    assert sent["provider_id"] == fake_twilio.messages_to(PHONE)[0].sid


def test_21610_is_not_retried_opts_the_number_out_and_later_events_are_suppressed(start_herald, gateways,
                                                                                    fake_twilio, database):
    h = start(start_herald, gateways, fake_twilio)
    fake_twilio.set_behaviour(PHONE, Reply.opted_out())
    post_event(h.cis, bill_ready("e-1", "A-1"))

    sms = event_messages(h.admin, "e-1")["sms"]
    failed = wait_message_status(h.admin, sms["id"], "failed", timeout=20)
    assert len(failed["attempts"]) == 1, failed["attempts"]
    assert failed["attempts"][0]["outcome"] == "failed" and failed["attempts"][0]["error_code"] == "21610", failed
    assert len(fake_twilio.requests_to(PHONE)) == 1

    consent = database.rows("SELECT state, source, coalesce(topic, '') FROM herald.consent_events "
                            f"WHERE channel = 'sms' AND address = '{PHONE}' ORDER BY id DESC LIMIT 1")
    assert consent == [["opted_out", "provider", ""]], consent

    post_event(h.cis, bill_ready("e-2", "A-1", amount="12.00"))
    later = event_messages(h.admin, "e-2")["sms"]
    assert later["status"] == "suppressed" and later["suppression_reason"] == "opted_out", later
    assert len(fake_twilio.requests_to(PHONE)) == 1
    assert message(h.admin, sms["id"])["status"] == "failed"


def test_gateway_that_keeps_failing_fails_over_to_the_next_gateway(start_herald, gateways, fake_twilio):
    h = start(start_herald, gateways, fake_twilio, dispatch={"max_attempts": 3},
              env={"HERALD_CHANNELS_SMS": "twilio,log"})
    fake_twilio.set_behaviour(PHONE, Reply.server_error())
    post_event(h.cis, bill_ready("e-fo", "A-1"))
    sms = event_messages(h.admin, "e-fo")["sms"]
    sent = wait_message_status(h.admin, sms["id"], "sent", timeout=30)
    assert sent["gateway"] == "log", sent
    # Each attempt names the gateway it was made on: the 500 came from twilio, the send from log.
    outcomes = [(a["gateway"], a["outcome"], a["http_status"]) for a in sent["attempts"]]
    assert outcomes == [("twilio", "failover", 500), ("log", "sent", outcomes[1][2])], outcomes
    assert [r.status for r in fake_twilio.requests_to(PHONE)] == [500]
    assert len(fake_twilio.messages_to(PHONE)) == 0
