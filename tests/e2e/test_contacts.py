"""Double opt-in through the running daemon: a number added on the web gets its code at the fake
Twilio, receives no alert until the code is confirmed, and the next alert after that reaches it."""
import re
import urllib.parse

from herald_e2e import bill_ready, create_customer, event_messages, post_event

EMAIL = "ada@example.com"
NEW_PHONE = "+12175550199"


def test_a_web_number_gets_its_code_and_no_alert_until_confirmed(start_herald, gateways, fake_twilio):
    h = start_herald(gateways(fake_twilio, None))
    # The default preferences (billing by SMS and email) while the customer has no SMS number yet.
    create_customer(h.cis, "C-1", email=EMAIL, account_id="A-1")
    token = h.cis.post("/v1/customers/C-1/portal-tokens").json()["token"]
    customer = h.cis.with_token(token)

    r = customer.post("/v1/customers/C-1/contacts", {"channel": "sms", "address": "(217) 555-0199"})
    assert r.status == 202 and r.json()["status"] == "pending_verification", r
    assert fake_twilio.wait_for(lambda t: t.messages_to(NEW_PHONE)), "the code text did not reach the fake Twilio"
    text = fake_twilio.messages_to(NEW_PHONE)[0].body
    assert "reply YES" in text, text
    code = re.search(r"\b(\d{6})\b", text).group(1)

    post_event(h.cis, bill_ready("e-before", "A-1"))
    before = event_messages(h.admin, "e-before")
    assert before["sms"]["status"] == "suppressed" and before["sms"]["suppression_reason"] == "no_contact", before
    assert len(fake_twilio.messages_to(NEW_PHONE)) == 1

    wrong = customer.post("/v1/customers/C-1/contacts/verify",
                          {"channel": "sms", "address": NEW_PHONE, "code": "000000" if code != "000000" else "111111"})
    assert wrong.status == 422 and wrong.json()["error"]["field"] == "code", wrong
    ok = customer.post("/v1/customers/C-1/contacts/verify", {"channel": "sms", "address": NEW_PHONE, "code": code})
    assert ok.status == 200 and ok.json()["verified"] is True, ok

    post_event(h.cis, bill_ready("e-after", "A-1", amount="12.00"))
    assert fake_twilio.wait_for(lambda t: len(t.messages_to(NEW_PHONE)) == 2), "the alert after verification did not arrive"
    assert "$12.00" in fake_twilio.messages_to(NEW_PHONE)[1].body

    history = customer.get("/v1/customers/C-1/consent").json()["items"]
    assert history[0]["address"] == NEW_PHONE and history[0]["source"] == "web", history
    removed = customer.request("DELETE", "/v1/customers/C-1/contacts/sms/" + urllib.parse.quote(NEW_PHONE, safe=""))
    assert removed.status == 204, removed
