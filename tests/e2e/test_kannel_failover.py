"""The kannel gateway against a fake smsbox, next to the fake Twilio: failover both ways between
the two, a not-routable answer that is final, and a DLR that reads delivered."""
import secrets

import pytest

from fake_kannel import FakeKannel, Reply as KannelReply
from fake_twilio import Reply as TwilioReply
from herald_e2e import bill_ready, create_customer, event_messages, post_event, preferences, wait_message_status

PHONE = "+12175550131"


@pytest.fixture
def fake_kannel():
    k = FakeKannel().start()
    yield k
    k.stop()


def start(start_herald, gateways, fake_twilio, fake_kannel, sms):
    token = "kannel-e2e-" + secrets.token_hex(12)
    env = gateways(fake_twilio, None, sms=sms, backoff_base_ms=100, max_attempts=3)
    env.update(fake_kannel.gateway_env("KANNEL", token, rate_per_second=1000, burst=1000))
    h = start_herald(env)
    create_customer(h.cis, "C-F1", preferences(billing=("sms",), other=()), phone=PHONE, account_id="A-F1")
    return h


def outcomes(message):
    return [(a["gateway"], a["outcome"], a["http_status"]) for a in message["attempts"]]


def test_twilio_answering_5xx_fails_over_to_kannel_whose_dlr_reads_delivered(start_herald, gateways, fake_twilio,
                                                                              fake_kannel):
    h = start(start_herald, gateways, fake_twilio, fake_kannel, sms="twilio,kannel")
    fake_twilio.set_behaviour(PHONE, TwilioReply.server_error())
    post_event(h.cis, bill_ready("e-f1", "A-F1"))
    sms = event_messages(h.admin, "e-f1")["sms"]

    sent = wait_message_status(h.admin, sms["id"], ("sent", "delivered"), timeout=30)
    assert outcomes(sent) == [("twilio", "failover", 500), ("kannel", "sent", 202)], sent["attempts"]
    assert sent["gateway"] == "kannel" and sent["provider_id"] == f"kannel-{sms['id']}", sent
    [request] = fake_kannel.accepted
    assert request.to == PHONE and request.text == sms["body"], request
    assert request.params["dlr-mask"] == "31" and request.params["charset"] == "UTF-8", request.params
    assert "coding" not in request.params, "an English bill is GSM-7"

    assert fake_kannel.send_dlr(request, 8, "ACK/")[0] == 200
    assert fake_kannel.send_dlr(request, 1)[0] == 200
    delivered = wait_message_status(h.admin, sms["id"], "delivered")
    assert sorted(r["status"] for r in delivered["receipts"]) == ["delivered", "sent"], delivered["receipts"]
    # A late SMSC ack never moves it back.
    assert fake_kannel.send_dlr(request, 8)[0] == 200
    assert wait_message_status(h.admin, sms["id"], "delivered")["status"] == "delivered"


def test_kannel_temporal_failure_fails_over_to_twilio(start_herald, gateways, fake_twilio, fake_kannel):
    h = start(start_herald, gateways, fake_twilio, fake_kannel, sms="kannel,twilio")
    fake_kannel.queue(KannelReply.temporal_failure())
    post_event(h.cis, bill_ready("e-f2", "A-F1"))
    sms = event_messages(h.admin, "e-f2")["sms"]

    sent = wait_message_status(h.admin, sms["id"], "sent", timeout=30)
    assert outcomes(sent) == [("kannel", "failover", 503), ("twilio", "sent", 201)], sent["attempts"]
    assert [r.status for r in fake_kannel.requests] == [503]
    assert len(fake_twilio.messages_to(PHONE)) == 1


def test_kannel_not_routable_is_final_and_not_retried(start_herald, gateways, fake_twilio, fake_kannel):
    h = start(start_herald, gateways, fake_twilio, fake_kannel, sms="kannel")
    fake_kannel.queue(KannelReply.not_routable())
    post_event(h.cis, bill_ready("e-f3", "A-F1"))
    sms = event_messages(h.admin, "e-f3")["sms"]

    failed = wait_message_status(h.admin, sms["id"], "failed", timeout=30)
    assert outcomes(failed) == [("kannel", "failed", 403)], failed["attempts"]
    assert failed["attempts"][0]["error_code"] == "kannel_not_routable", failed["attempts"]
    assert len(fake_kannel.requests) == 1
