"""Through real Kannel: heraldd's kannel gateway sends a bill alert to smsbox, bearerbox hands it
to fakesmsc (the SMSC), and the DLRs smsbox calls back with move the message to delivered; a
STOP sent from fakesmsc reaches Herald through smsbox's get-url, opts the number out, is
answered through Kannel, and the next alert to the number is suppressed."""
import secrets

import pytest

import kannel_boxes
from herald_e2e import (bill_ready, create_customer, event_messages, free_port, message, poll, post_event,
                        preferences, wait_message_status)

PHONE = "+12175550101"
PHONE_ES = "+12175550102"


@pytest.fixture
def kannel(tmp_path):
    assert kannel_boxes.installed(), "Kannel is missing: scripts/install-deps --test installs kannel and kannel-extras"
    token = "kannel-e2e-" + secrets.token_hex(12)
    herald_port = free_port()
    mo_url = f"http://127.0.0.1:{herald_port}/v1/webhooks/kannel/mo?token={token}"
    boxes = kannel_boxes.KannelBoxes(str(tmp_path / "kannel"), mo_url).start()
    boxes.token = token
    boxes.herald_port = herald_port
    yield boxes
    boxes.stop()


def start(start_herald, kannel, **dispatch):
    env = {"HERALD_CHANNELS_SMS": "kannel", "HERALD_CHANNELS_EMAIL": "log", "HERALD_CHANNELS_VOICE": "log",
           **kannel_boxes.gateway_env("KANNEL", kannel, kannel.token)}
    env.update({f"HERALD_DISPATCH_{k.upper()}": str(v) for k, v in dispatch.items()})
    h = start_herald(env, port=kannel.herald_port)
    create_customer(h.cis, "C-K1", preferences(billing=("sms",), other=()), phone=PHONE, account_id="A-K1")
    return h


def test_bill_alert_reaches_fakesmsc_and_its_dlrs_read_delivered(start_herald, kannel):
    h = start(start_herald, kannel)
    post_event(h.cis, bill_ready("e-k1", "A-K1", amount="82.17"))
    sms = event_messages(h.admin, "e-k1")["sms"]

    got = kannel.wait_mt(PHONE)
    assert len(got) == 1, got
    assert got[0]["from"] == kannel.smsc_number
    # Longer than one SMS: smsbox sends it in concatenated parts that fakesmsc prints one by one.
    assert got[0]["parts"] == 2 and got[0]["data"].decode() == sms["body"], got

    delivered = wait_message_status(h.admin, sms["id"], "delivered", timeout=30)
    attempts = delivered["attempts"]
    assert [(a["gateway"], a["outcome"], a["http_status"]) for a in attempts] == [("kannel", "sent", 202)], attempts
    assert attempts[0]["provider_id"] == f"kannel-{sms['id']}"
    assert delivered["delivered_at"], delivered
    # bearerbox reports the SMSC's ack (8) and then the delivery (1); both are kept as receipts.
    # Both can overtake the dispatcher recording the send, and smsbox's retries of them may come
    # back in either order: a late ack is recorded without moving the message back.
    final = poll(lambda: (lambda m: m if len(m["receipts"]) >= 2 else None)(message(h.admin, sms["id"])), 20,
                 what="both DLRs recorded")
    assert sorted(r["raw"]["status"] for r in final["receipts"]) == [1, 8], final["receipts"]
    assert {r["gateway"] for r in final["receipts"]} == {"kannel"}
    assert final["status"] == "delivered", final


def test_spanish_text_outside_gsm7_arrives_as_ucs2_unchanged(start_herald, kannel):
    h = start(start_herald, kannel)
    # "está" and "Véala": á is not in GSM 03.38, so the whole text goes as UCS-2.
    create_customer(h.cis, "C-K2", preferences(billing=("sms",), other=(), language="es"), phone=PHONE_ES,
                    account_id="A-K2")
    post_event(h.cis, bill_ready("e-k2", "A-K2", amount="45.00"))
    sms = event_messages(h.admin, "e-k2")["sms"]
    assert sms["encoding"] == "UCS-2", sms

    got = kannel.wait_mt(PHONE_ES)
    # Three UCS-2 parts (67 characters each) whose bytes are the text in UTF-16BE, accents included.
    assert got[0]["parts"] == sms["segments"] == 3, (got, sms["segments"])
    assert got[0]["data"].decode("utf-16-be") == sms["body"], got
    wait_message_status(h.admin, sms["id"], "delivered", timeout=30)


def test_stop_from_fakesmsc_opts_the_number_out_and_the_next_alert_is_suppressed(start_herald, kannel):
    h = start(start_herald, kannel)
    post_event(h.cis, bill_ready("e-k3", "A-K1", amount="82.17"))
    first = event_messages(h.admin, "e-k3")["sms"]
    kannel.wait_mt(PHONE)
    wait_message_status(h.admin, first["id"], "delivered", timeout=30)

    # The phone answers STOP: smsbox calls the MO url, Herald records the opt-out and its reply
    # (the response body) goes back to the phone through smsbox and bearerbox.
    kannel.send_mo(PHONE, kannel.smsc_number, "STOP")
    got = kannel.wait_mt(PHONE, count=2, timeout=30)
    assert any("unsubscribed" in m["data"].decode().lower() for m in got), got

    def opted_out():
        r = h.admin.get("/v1/customers/C-K1/consent")
        assert r.status == 200, r
        return [c for c in r.json()["items"] if c["channel"] == "sms" and c["address"] == PHONE
                and c["consent"] == "opted_out" and c["source"] == "sms"]
    records = poll(opted_out, 15, what="the STOP recorded as an sms opt-out")
    assert records[0]["evidence"], records

    post_event(h.cis, bill_ready("e-k4", "A-K1", amount="12.00"))
    later = event_messages(h.admin, "e-k4")["sms"]
    assert later["status"] == "suppressed" and later["suppression_reason"] == "opted_out", later
    assert len(kannel.mts()) == 2, kannel.mts()
