"""Area notices through the running daemon: a notice.broadcast aimed at a ZIP reaches exactly the
accounts there whose customers subscribed to its topic, on their channels (the others get a
suppressed row saying why); an immediate one goes out during quiet hours while a normal one waits
for morning; one without a target is refused."""
import copy

from herald_e2e import customer_body, daytime_zone, night_zone, poll, preferences, wait_event_processed

ZIP = "62701"
OTHER_ZIP = "62702"


def put_customer(api, cid, phone, *, zip_code=ZIP, tz=None, outage=("sms",), email=None):
    body = customer_body(cid, phone=phone, email=email, tz=tz or daytime_zone(), voice="voice" in outage)
    body = copy.deepcopy(body)
    body["accounts"][0]["service_address"]["zip"] = zip_code
    r = api.put(f"/v1/customers/{cid}", body)
    assert r.status == 200, r
    p = api.put(f"/v1/customers/{cid}/preferences", preferences(billing=("sms",), outage=outage, other=()))
    assert p.status == 200, p


def notice(event_id, target, **data):
    return {"event_id": event_id, "type": "notice.broadcast",
            "data": {"title": "Boil water notice", "message": "Boil tap water for one minute before drinking.",
                     "target": target, **data}}


def messages_of(database, event_id):
    """(account, channel, status) of every message the event produced."""
    rows = database.rows(f"SELECT account_id, channel, status FROM herald.messages WHERE event_id = '{event_id}'"
                         " ORDER BY account_id, channel")
    return [tuple(r) for r in rows]


def test_a_zip_notice_reaches_exactly_the_subscribed_accounts_there(start_herald, gateways, fake_twilio, database):
    h = start_herald(gateways(fake_twilio, None))
    put_customer(h.cis, "Z1", "+12175550101")
    put_customer(h.cis, "Z2", "+12175550102", outage=("sms", "email"), email="z2@example.com")
    put_customer(h.cis, "Z3", "+12175550103", outage=())                  # outage alerts off
    put_customer(h.cis, "Z4", "+12175550104", zip_code=OTHER_ZIP)         # elsewhere
    put_customer(h.cis, "Z5", "+12175550105", outage=("sms", "voice"))    # voice: the log gateway

    r = h.cis.post("/v1/events", notice("boil-1", {"zips": [ZIP]}))
    assert r.status == 202, r
    ev = wait_event_processed(h.admin, "boil-1")
    assert ev["status"] == "processed", ev

    produced = messages_of(database, "boil-1")
    assert [(a, c) for a, c, _ in produced] == [
        ("A-Z1", "sms"), ("A-Z2", "email"), ("A-Z2", "sms"), ("A-Z3", "sms"), ("A-Z5", "sms"), ("A-Z5", "voice")], produced
    # Alerts off: one suppressed row saying so (as intake records it), never a send.
    assert all(s in ("queued", "sending", "sent") for a, _, s in produced if a != "A-Z3"), produced
    assert database.rows("SELECT status, suppression_reason FROM herald.messages"
                         " WHERE event_id = 'boil-1' AND account_id = 'A-Z3'") == [["suppressed", "preference_off"]]

    for phone in ("+12175550101", "+12175550102", "+12175550105"):
        poll(lambda: fake_twilio.messages_to(phone), what=f"the notice at {phone}")
        text = fake_twilio.messages_to(phone)[0].body
        assert "Boil water notice" in text and "Boil tap water" in text, text
    assert not fake_twilio.messages_to("+12175550103") and not fake_twilio.messages_to("+12175550104")

    # The email is rendered once per language; the recipient's own name, masked account and a
    # signed unsubscribe link are put in by the database.
    email = database.rows("SELECT replace(body, E'\\n', ' '), unsubscribe_url FROM herald.messages"
                          " WHERE event_id = 'boil-1' AND channel = 'email'")[0]
    assert "Hello Customer," in email[0] and "account A-Z2." in email[0], email[0]
    assert "@@herald:" not in email[0], email[0]
    token = email[1].rsplit("/", 1)[1]
    page = h.cis.with_token(None).get(f"/v1/unsubscribe/{token}")
    assert page.status == 200, page
    # Outage lane for a normal notice.
    lanes = database.rows("SELECT DISTINCT q.lane FROM herald.message_queue q JOIN herald.messages m"
                          " ON m.id = q.message_id WHERE m.event_id = 'boil-1'")
    assert lanes in ([], [["2"]]), lanes


def test_an_immediate_notice_goes_out_in_quiet_hours_and_a_normal_one_waits(start_herald, gateways, fake_twilio,
                                                                           database):
    zone, _ = night_zone()
    h = start_herald(gateways(fake_twilio, None))
    put_customer(h.cis, "N1", "+12175550111", tz=zone)

    assert h.cis.post("/v1/events", notice("boil-night", {"zips": [ZIP]})).status == 202
    assert h.cis.post("/v1/events", notice("gas-leak", {"zips": [ZIP]}, urgency="immediate",
                                           title="Gas leak")).status == 202
    for event_id in ("boil-night", "gas-leak"):
        assert wait_event_processed(h.admin, event_id)["status"] == "processed"

    poll(lambda: fake_twilio.messages_to("+12175550111"), what="the immediate notice")
    assert [m.body for m in fake_twilio.messages_to("+12175550111")][0].split(": ", 1)[1].startswith("Gas leak.")
    held = database.rows("SELECT m.status, q.lane, m.not_before > now() FROM herald.messages m"
                         " JOIN herald.message_queue q ON q.message_id = m.id WHERE m.event_id = 'boil-night'")
    assert held == [["scheduled", "2", "t"]], held
    urgent = database.rows("SELECT decision->'rule'->>'urgent' FROM herald.messages WHERE event_id = 'gas-leak'")
    assert urgent == [["true"]], urgent
    assert len(fake_twilio.messages_to("+12175550111")) == 1


def test_a_broadcast_without_a_target_is_refused_naming_the_field(start_herald, gateways, database):
    h = start_herald(gateways(None, None))
    cases = [
        ({}, "data.target"),
        ({"target": {}}, "data.target"),
        ({"target": {"zips": []}}, "data.target"),
        ({"target": {"zips": ["62701", ""]}}, "data.target.zips[1]"),
        ({"target": {"streets": ["Main"]}}, "data.target.streets"),
        ({"target": ["62701"]}, "data.target"),
        ({"target": {"zips": [ZIP]}, "urgency": "now"}, "data.urgency"),
    ]
    for i, (extra, field) in enumerate(cases):
        body = {"event_id": f"bad-{i}", "type": "notice.broadcast",
                "data": {"title": "Boil water notice", "message": "Boil tap water.", **extra}}
        r = h.cis.post("/v1/events", body)
        assert r.status == 422 and r.json()["error"]["field"] == field, (extra, r)
        batch = h.cis.post("/v1/events/batch", {"events": [body]})
        assert batch.json()["results"][0]["status"] == "rejected", batch
        assert batch.json()["results"][0]["error"]["field"] == field, batch
    assert database.scalar("SELECT count(*) FROM herald.events") == "0"
