"""Voice calls through the fake Twilio's Calls API: the call is placed with machine detection and a
signed TwiML URL, the customer hears the message in their language, a key answers the
conversation the call opened (1 files an outage report), call statuses land on the message, a
machine gets a voicemail, and a request with a bad signature changes nothing."""
import os
import shutil

import pytest

from fake_twilio import CallBehaviour, post_form, twilio_signature
from herald_e2e import create_customer, daytime_zone, event_messages, poll, preferences, wait_message_status

# An outage type whose call asks "press 1 if you are still without power": declared here so the
# test does not depend on which outage types the shipped rules hold.
TYPE = "outage.voice_check"
CONFIG = """
[rules]
templates_dir = "TEMPLATES"

[rules.types."TYPE"]
topic = "outage"
ttl_hours = 6

[rules.types."TYPE".conversation]
ttl_hours = 1
replies = { "1" = "outage.report" }
""".replace("TYPE", TYPE)
TEXT = {"en": "Power is restored at {{account.service_address.line1}}.",
        "es": "Se restableció la luz en {{account.service_address.line1}}."}


@pytest.fixture
def voice_config(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(os.path.join(os.path.dirname(__file__), "..", "..", "config", "templates"), templates)
    for language, text in TEXT.items():
        (templates / language / f"{TYPE}.voice.mustache").write_text(text + "\n", encoding="utf-8")
    path = tmp_path / "heraldd.toml"
    path.write_text(CONFIG.replace("TEMPLATES", str(templates)), encoding="utf-8")
    return str(path)


def voice_env(fake_twilio, voice_config, **extra):
    env = fake_twilio.gateway_env("TWILIO", rate_per_second=1000, burst=1000)
    env.update({"HERALD_CONFIG": voice_config, "HERALD_CHANNELS_SMS": "twilio", "HERALD_CHANNELS_VOICE": "twilio",
                "HERALD_CHANNELS_EMAIL": "log"})
    env.update(extra)
    return env


@pytest.fixture
def herald(start_herald, fake_twilio, voice_config):
    return start_herald(voice_env(fake_twilio, voice_config))


@pytest.fixture
def redialling_herald(start_herald, fake_twilio, voice_config):
    """One more call after an unanswered one, a second after it."""
    return start_herald(voice_env(fake_twilio, voice_config, HERALD_VOICE_REDIAL_ATTEMPTS="1",
                                  HERALD_VOICE_REDIAL_AFTER_SECONDS="1"))


def voice_customer(h, cid, phone, language="en"):
    create_customer(h.cis, cid, preferences(billing=("sms",), outage=("voice",), other=("sms",), language=language), phone=phone, voice=True,
                    account_id=f"A-{cid}", tz=daytime_zone())


def outage_event(event_id, account_id):
    return {"event_id": event_id, "type": TYPE, "account_id": account_id, "data": {}}


def call_for(h, event_id):
    """The event's voice message once its call has been accepted."""
    m = event_messages(h.admin, event_id)["voice"]
    return wait_message_status(h.admin, m["id"], ("sent", "delivered", "undelivered", "failed"))


def test_spanish_customer_hears_the_call_in_spanish_and_key_1_files_an_outage_report(herald, fake_twilio, database):
    h = herald
    phone = "+12175550301"
    voice_customer(h, "C-es", phone, language="es")
    fake_twilio.set_call_behaviour(phone, CallBehaviour(digits=["1"]))
    assert h.cis.post("/v1/events", outage_event("out-es-1", "A-C-es")).status in (200, 202)

    call = fake_twilio.wait_call(phone)
    assert not call.error, call.error
    m = call_for(h, "out-es-1")
    assert m["provider_id"] == call.sid
    assert call.params["Url"] == f"{h.base_url}/v1/webhooks/twilio/voice?message={m['id']}"
    assert call.params["MachineDetection"] == "DetectMessageEnd"
    assert call.params["StatusCallback"] == f"{h.base_url}/v1/webhooks/twilio/status"

    # Spoken in Spanish: the message, the prompt, then the action's confirmation.
    said = [(s.text, s.language) for s in call.spoken]
    assert said[0] == ("Se restableció la luz en 12 Main St.", "es-MX"), said
    assert said[1] == ("Oprima 1 si todavía está sin luz.", "es-MX"), said
    assert all(s.voice == "Polly.Mia" for s in call.spoken), call.spoken
    report = database.rows("SELECT report_id, account_id, premise_id, source FROM herald.outage_reports")
    assert len(report) == 1, report
    report_id, account, premise, source = report[0]
    assert (account, premise, source) == ("A-C-es", "P-C-es", "voice")
    assert len(said) == 3 and report_id in said[2][0] and said[2][1] == "es-MX", said
    assert call.gathers[0]["numDigits"] == "1" and call.gathers[0]["input"] == "dtmf"

    inbound = database.rows("SELECT channel, from_address, body, matched, action, provider_message_id"
                            " FROM herald.inbound_messages")
    assert inbound == [["voice", phone, "1", "conversation", "outage.report", call.sid + "/1"]], inbound

    # The completed call delivered the message.
    assert call.status_answer[0] == 204
    wait_message_status(h.admin, m["id"], "delivered")

    # Twilio retrying the same key post is answered the same and files nothing more.
    action = call.gathers[0]["action"]
    params = {"AccountSid": fake_twilio.account_sid, "CallSid": call.sid, "CallStatus": "in-progress",
              "Digits": "1", "From": call.from_, "To": phone}
    status, body = post_form(action, params, {"X-Twilio-Signature": twilio_signature(fake_twilio.auth_token, action, params)})
    assert status == 200 and report_id in body, body
    assert database.scalar("SELECT count(*) FROM herald.outage_reports") == "1"
    assert database.scalar("SELECT count(*) FROM herald.inbound_messages") == "1"
    assert database.scalar("SELECT count(*) FROM herald.conversations WHERE channel = 'voice'") == "1"


def test_a_real_outage_calls_in_spanish_and_key_1_after_restoration_reports_against_it(herald, fake_twilio, database):
    """The shipped outage rules and templates, not a test type: an outage over the customer's
    premise calls on confirmation, calls again on restoration asking for 1, and the key files a
    report linked to that outage."""
    h = herald
    phone = "+12175550311"
    voice_customer(h, "C-storm", phone, language="es")
    affected = {"premise_ids": ["P-C-storm"], "feeders": [], "zips": []}
    r = h.cis.put("/v1/outages/OUT-V-1", {"status": "confirmed", "kind": "unplanned", "cause": "storm",
                                          "affected": affected})
    assert r.status in (200, 201), r.text
    confirmed = fake_twilio.wait_call(phone)
    assert not confirmed.error, confirmed.error
    assert confirmed.spoken and all(s.language == "es-MX" for s in confirmed.spoken), confirmed.spoken
    assert not confirmed.gathers, confirmed.twiml  # nothing to answer yet

    fake_twilio.set_call_behaviour(phone, CallBehaviour(digits=["1"]))
    r = h.cis.put("/v1/outages/OUT-V-1", {"status": "restored", "kind": "unplanned", "cause": "storm",
                                          "affected": affected})
    assert r.status == 200, r.text
    assert fake_twilio.wait_for(lambda f: len(f.calls_to(phone)) == 2 and f.calls_to(phone)[1].done)
    restored = fake_twilio.calls_to(phone)[1]
    assert not restored.error, restored.error
    said = [s.text for s in restored.spoken]
    assert said[0].startswith("Le habla") and "Se restableció la luz en 12 Main St." in said[0], said
    assert all(s.language == "es-MX" for s in restored.spoken), restored.spoken
    reports = database.rows("SELECT outage_id, premise_id, source FROM herald.outage_reports")
    assert reports == [["OUT-V-1", "P-C-storm", "voice"]], reports
    outage = h.cis.get("/v1/outages/OUT-V-1").json()
    assert outage["counts"]["reports"] == 1, outage


def test_english_call_asks_again_after_a_wrong_key(herald, fake_twilio, database):
    h = herald
    phone = "+12175550302"
    voice_customer(h, "C-en", phone)
    fake_twilio.set_call_behaviour(phone, CallBehaviour(digits=["7", "1"]))
    h.cis.post("/v1/events", outage_event("out-en-1", "A-C-en"))
    call = fake_twilio.wait_call(phone)
    assert not call.error, call.error
    said = [s.text for s in call.spoken]
    assert said[:4] == ["Power is restored at 12 Main St.", "Press 1 if you are still without power.",
                        "Sorry, that is not one of the choices.", "Press 1 if you are still without power."], said
    assert all(s.language == "en-US" for s in call.spoken)
    assert database.scalar("SELECT count(*) FROM herald.outage_reports WHERE source = 'voice'") == "1"
    assert [g["action"].rsplit("=", 1)[1] for g in call.gathers] == ["1", "2"]


def test_a_machine_gets_the_message_as_voicemail(herald, fake_twilio, database):
    h = herald
    phone = "+12175550303"
    voice_customer(h, "C-vm", phone)
    fake_twilio.set_call_behaviour(phone, CallBehaviour(answered_by="machine_end_beep", digits=["1"]))
    h.cis.post("/v1/events", outage_event("out-vm-1", "A-C-vm"))
    call = fake_twilio.wait_call(phone)
    assert not call.error, call.error
    assert [s.text for s in call.spoken] == ["Power is restored at 12 Main St."]
    assert "<Gather" not in call.twiml[0] and "<Hangup/>" in call.twiml[0], call.twiml
    # Nobody could answer: no conversation was opened, no key was taken.
    assert database.scalar("SELECT count(*) FROM herald.conversations") == "0"
    assert database.scalar("SELECT count(*) FROM herald.inbound_messages") == "0"
    wait_message_status(h.admin, call_for(h, "out-vm-1")["id"], "delivered")


def test_busy_and_unanswered_calls_are_called_again_then_undelivered(redialling_herald, fake_twilio, database):
    h = redialling_herald
    numbers = [("C-busy", "+12175550304", "busy"), ("C-na", "+12175550305", "no-answer")]
    for cid, phone, status in numbers:
        voice_customer(h, cid, phone)
        fake_twilio.set_call_behaviour(phone, CallBehaviour(status=status))
        h.cis.post("/v1/events", outage_event(f"out-{cid}", f"A-{cid}"))
    for cid, phone, status in numbers:
        assert fake_twilio.wait_for(lambda f: len(f.calls_to(phone)) == 2 and f.calls_to(phone)[1].done)
        first, second = fake_twilio.calls_to(phone)
        assert not first.twiml and not second.twiml  # never answered
        m = wait_message_status(h.admin, event_messages(h.admin, f"out-{cid}")["voice"]["id"], "undelivered")
        assert status in (m.get("last_error") or ""), m
        # Both calls were attempts of the one message; the redial allowed is used up, so nothing
        # is left in the queue to call a third time.
        assert database.scalar(f"SELECT attempts FROM herald.messages WHERE id = {m['id']}") == "2"
        assert database.scalar(f"SELECT count(*) FROM herald.message_queue WHERE message_id = {m['id']}") == "0"
        # A late interim status of either call never moves it back.
        for call in (first, second):
            params = {"AccountSid": fake_twilio.account_sid, "CallSid": call.sid, "CallStatus": "ringing",
                      "From": call.from_, "To": phone}
            url = call.status_callback
            assert post_form(url, params, {"X-Twilio-Signature": twilio_signature(fake_twilio.auth_token, url, params)})[0] == 204
        assert wait_message_status(h.admin, m["id"], "undelivered")["status"] == "undelivered"
    assert len(fake_twilio.calls_to("+12175550304")) == 2 and len(fake_twilio.calls_to("+12175550305")) == 2


def test_an_unanswered_call_is_placed_again_and_the_second_one_is_answered(redialling_herald, fake_twilio, database):
    h = redialling_herald
    phone = "+12175550312"
    voice_customer(h, "C-later", phone)
    fake_twilio.set_call_behaviour(phone, CallBehaviour(status="no-answer"), CallBehaviour(digits=["1"]))
    h.cis.post("/v1/events", outage_event("out-later-1", "A-C-later"))
    assert fake_twilio.wait_for(lambda f: len(f.calls_to(phone)) == 2 and f.calls_to(phone)[1].done)
    first, second = fake_twilio.calls_to(phone)
    assert not first.twiml and not first.error
    assert not second.error, second.error
    assert [s.text for s in second.spoken][0] == "Power is restored at 12 Main St."
    m = wait_message_status(h.admin, event_messages(h.admin, "out-later-1")["voice"]["id"], "delivered")
    assert m["provider_id"] == second.sid
    # The key on the second call answered the conversation that call opened: one report.
    assert database.scalar("SELECT count(*) FROM herald.outage_reports WHERE source = 'voice'") == "1"
    receipts = database.rows(f"SELECT provider_id, status, error_code FROM herald.delivery_receipts"
                             f" WHERE message_id = {m['id']} AND status IN ('undelivered', 'delivered') ORDER BY id")
    assert receipts == [[first.sid, "undelivered", "no-answer"], [second.sid, "delivered", ""]], receipts
    # The first call's late status is kept with the message but moves nothing.
    params = {"AccountSid": fake_twilio.account_sid, "CallSid": first.sid, "CallStatus": "busy",
              "From": first.from_, "To": phone}
    url = first.status_callback
    assert post_form(url, params, {"X-Twilio-Signature": twilio_signature(fake_twilio.auth_token, url, params)})[0] == 204
    assert wait_message_status(h.admin, m["id"], "delivered")["status"] == "delivered"
    assert len(fake_twilio.calls_to(phone)) == 2


def test_bad_signature_is_refused_and_stores_nothing(herald, fake_twilio, database):
    h = herald
    phone = "+12175550306"
    voice_customer(h, "C-sig", phone)
    fake_twilio.set_call_behaviour(phone, CallBehaviour(status="no-answer"))
    h.cis.post("/v1/events", outage_event("out-sig-1", "A-C-sig"))
    call = fake_twilio.wait_call(phone)
    m = event_messages(h.admin, "out-sig-1")["voice"]  # queued again for a redial by now
    url = f"{h.base_url}/v1/webhooks/twilio/voice?message={m['id']}"
    params = {"AccountSid": fake_twilio.account_sid, "CallSid": call.sid, "CallStatus": "in-progress",
              "From": call.from_, "To": phone, "AnsweredBy": "human"}
    forged = twilio_signature("not-the-auth-token", url, params)
    assert post_form(url, params, {"X-Twilio-Signature": forged})[0] == 403
    keys = dict(params, Digits="1")
    action = url + "&gather=1"
    assert post_form(action, keys, {"X-Twilio-Signature": twilio_signature("wrong", action, keys)})[0] == 403
    # Signed for another message id: the signature covers the query.
    other = f"{h.base_url}/v1/webhooks/twilio/voice?message={m['id'] + 1}&gather=1"
    assert post_form(other, keys, {"X-Twilio-Signature": twilio_signature(fake_twilio.auth_token, action, keys)})[0] == 403
    assert post_form(action, keys)[0] == 403
    for table in ("conversations", "inbound_messages", "outage_reports"):
        assert database.scalar(f"SELECT count(*) FROM herald.{table}") == "0", table
    # The same request signed properly is answered (so the refusals above were the signature's).
    status, body = post_form(url, params, {"X-Twilio-Signature": twilio_signature(fake_twilio.auth_token, url, params)})
    assert status == 200 and "<Gather" in body, body
