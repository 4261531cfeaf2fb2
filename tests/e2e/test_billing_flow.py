"""A bill.ready travels from the CIS API to the fake Twilio and the SMTP server; status callbacks
and the one-click unsubscribe of the email come back into heraldd."""
import datetime
import re
import urllib.parse

from fake_twilio import post_form
from herald_e2e import (bill_ready, create_customer, event_messages, message, poll, post_event, preferences,
                        wait_message_status)

PHONE = "+12175550101"
EMAIL = "ada@example.com"


def start_with_fakes(start_herald, gateways, fake_twilio, smtp_sink):
    h = start_herald(gateways(fake_twilio, smtp_sink))
    create_customer(h.cis, "C-1", preferences(billing=("sms", "email")), phone=PHONE, email=EMAIL,
                    name="Ada Lovelace", account_id="A-1001")
    return h


def unsubscribe_url(mail) -> str:
    header = str(mail.message["List-Unsubscribe"])
    urls = [u for u in re.findall(r"<([^>]+)>", header) if u.startswith("http")]
    assert urls, f"no http URL in List-Unsubscribe: {header!r}"
    return urls[0]


def test_bill_ready_becomes_sms_at_twilio_and_email_at_smtp_with_delivery_callback(start_herald, gateways,
                                                                                   fake_twilio, smtp_sink):
    h = start_with_fakes(start_herald, gateways, fake_twilio, smtp_sink)

    event = bill_ready("cis-8812", "A-1001", amount="82.17")
    r = post_event(h.cis, event)
    assert r.status == 202 and r.json() == {"event_id": "cis-8812", "status": "accepted"}, r
    due = datetime.date.fromisoformat(event["data"]["due_date"])
    due_text = f"{due:%B} {due.day}, {due.year}"  # how the English templates write dates
    bill_url = event["data"]["bill_url"]

    assert fake_twilio.wait_for(lambda t: t.messages_to(PHONE)), "no SMS reached the fake Twilio"
    sms = fake_twilio.messages_to(PHONE)[0]
    for expected in ("$82.17", due_text, bill_url, "****1001", "STOP"):
        assert expected in sms.body, (expected, sms.body)
    assert sms.from_ == "+12175550000"
    assert sms.status_callback == f"{h.base_url}/v1/webhooks/twilio/status"

    mail = smtp_sink.wait_for_message(lambda m: EMAIL in [a.lower() for a in m.envelope_to])
    assert mail is not None, "no email reached the SMTP server"
    msg = mail.message
    assert msg["Subject"], "email without a subject"
    assert "billing@utility.example" in str(msg["From"])
    assert EMAIL in str(msg["To"]).lower()
    text, html = mail.part("text/plain"), mail.part("text/html")
    assert "$82.17" in str(msg["Subject"]), msg["Subject"]
    for expected in ("Hello Ada", "$82.17", due_text, bill_url, "****1001"):
        assert text and expected in text, (expected, text)
        assert html and expected.replace("Hello Ada", "Ada") in html, (expected, html)
    assert unsubscribe_url(mail).startswith(f"{h.base_url}/v1/unsubscribe/")
    assert str(msg["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"

    by_channel = event_messages(h.admin, "cis-8812")
    assert set(by_channel) >= {"sms", "email"}, by_channel
    sms_row = wait_message_status(h.admin, by_channel["sms"]["id"], "sent")
    assert sms_row["provider_id"] == sms.sid
    assert sms_row["gateway"] == "twilio"
    # The body is plain GSM-7 text: one segment up to 160 characters, 153 per segment beyond.
    expected_segments = 1 if len(sms.body) <= 160 else -(-len(sms.body) // 153)
    assert (sms_row.get("encoding"), sms_row.get("segments")) == ("GSM-7", expected_segments), sms_row
    wait_message_status(h.admin, by_channel["email"]["id"], "sent")

    code, _ = fake_twilio.send_status_callback(sms.sid, "sent")
    assert code in (200, 204)
    code, _ = fake_twilio.send_status_callback(sms.sid, "delivered")
    assert code in (200, 204)
    delivered = wait_message_status(h.admin, sms_row["id"], "delivered", timeout=5)
    assert any(rc.get("status") == "delivered" for rc in delivered["receipts"]), delivered["receipts"]

    # A late, out-of-order callback is recorded but never moves the status backwards.
    code, _ = fake_twilio.send_status_callback(sms.sid, "sent")
    assert code in (200, 204)
    poll(lambda: len(message(h.admin, sms_row["id"])["receipts"]) >= 3, 5, what="third receipt stored")
    assert message(h.admin, sms_row["id"])["status"] == "delivered"


def test_one_click_unsubscribe_switches_topic_off_and_next_email_is_suppressed(start_herald, gateways,
                                                                               fake_twilio, smtp_sink):
    h = start_with_fakes(start_herald, gateways, fake_twilio, smtp_sink)
    post_event(h.cis, bill_ready("bill-1", "A-1001"))
    mail = smtp_sink.wait_for_message(lambda m: EMAIL in [a.lower() for a in m.envelope_to])
    assert mail is not None, "no email reached the SMTP server"

    url = unsubscribe_url(mail)
    # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the header's URL, no cookies, no auth.
    code, body = post_form(url, {"List-Unsubscribe": "One-Click"})
    assert code == 200, body

    prefs = h.cis.get("/v1/customers/C-1/preferences")
    assert prefs.status == 200, prefs
    assert "email" not in prefs.json()["topics"]["billing"]["channels"], prefs.json()
    assert "sms" in prefs.json()["topics"]["billing"]["channels"], prefs.json()

    post_event(h.cis, bill_ready("bill-2", "A-1001", amount="99.10"))
    second = event_messages(h.admin, "bill-2")
    # Email is no longer chosen for billing: it gets no message at all (sms still does).
    assert "email" not in second, second
    wait_message_status(h.admin, second["sms"]["id"], "sent")
    assert len(smtp_sink.messages_to(EMAIL)) == 1


def test_tampered_unsubscribe_link_is_refused(start_herald, gateways, fake_twilio, smtp_sink):
    h = start_with_fakes(start_herald, gateways, fake_twilio, smtp_sink)
    post_event(h.cis, bill_ready("bill-1", "A-1001"))
    mail = smtp_sink.wait_for_message(lambda m: EMAIL in [a.lower() for a in m.envelope_to])
    assert mail is not None
    url = unsubscribe_url(mail)
    token = url.rsplit("/", 1)[1]
    forged = url[: -len(token)] + urllib.parse.quote(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    code, _ = post_form(forged, {"List-Unsubscribe": "One-Click"})
    assert code in (403, 404), code
    prefs = h.cis.get("/v1/customers/C-1/preferences").json()
    assert "email" in prefs["topics"]["billing"]["channels"], prefs
