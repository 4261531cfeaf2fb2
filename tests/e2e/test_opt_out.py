"""An opt-out reaches what is already waiting: emails held for quiet hours are suppressed the moment
the one-click unsubscribe link is used, while the same customer's held SMS stay scheduled."""
from fake_twilio import post_form
from herald_e2e import bill_ready, create_customer, event_messages, message, night_zone, post_event, preferences

EMAIL = "night@example.com"


def test_the_unsubscribe_link_suppresses_held_emails_of_its_topic(start_herald, database):
    zone, _ = night_zone()
    h = start_herald({"HERALD_CHANNELS_SMS": "log", "HERALD_CHANNELS_EMAIL": "log"})
    create_customer(h.cis, "C-1", preferences(billing=("sms", "email")), phone="+12175550131", email=EMAIL,
                    account_id="A-1", tz=zone)
    post_event(h.cis, bill_ready("held-1", "A-1"))
    post_event(h.cis, bill_ready("held-2", "A-1", amount="12.00"))
    held = [event_messages(h.admin, e) for e in ("held-1", "held-2")]
    for messages in held:
        assert {m["status"] for m in messages.values()} == {"scheduled"}, messages

    url = database.scalar(f"SELECT unsubscribe_url FROM herald.messages WHERE id = {held[0]['email']['id']}")
    code, body = post_form(url, {"List-Unsubscribe": "One-Click"})
    assert code == 200, body

    for messages in held:
        email = message(h.admin, messages["email"]["id"])
        assert (email["status"], email["suppression_reason"]) == ("suppressed", "opted_out"), email
        assert message(h.admin, messages["sms"]["id"])["status"] == "scheduled"
    assert database.scalar("SELECT count(*) FROM herald.message_queue") == "2"
