"""Quiet hours against the real clock: a customer where it is night now gets a held message due at
08:00 their time. (Sending it at 08:00 is the engine test's job, with an injected clock.)"""
import datetime

from herald_e2e import (bill_ready, create_customer, daytime_zone, event_messages, night_zone, parse_time,
                        preferences, wait_message_status)


def next_local_eight(local_now: datetime.datetime) -> datetime.datetime:
    eight = local_now.replace(hour=8, minute=0, second=0, microsecond=0)
    if eight <= local_now:
        eight = (local_now + datetime.timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
        # Rebuild from the wall clock so a DST change between now and tomorrow is honoured.
        eight = datetime.datetime(eight.year, eight.month, eight.day, 8, tzinfo=local_now.tzinfo)
    return eight


def test_event_at_night_customer_time_is_held_until_eight_local(start_herald):
    zone, local_now = night_zone()
    h = start_herald({"HERALD_CHANNELS_SMS": "log", "HERALD_CHANNELS_EMAIL": "log"})
    create_customer(h.cis, "C-night", preferences(billing=("sms", "email")), phone="+12175550111",
                    email="night@example.com", account_id="A-night", tz=zone)
    create_customer(h.cis, "C-day", preferences(billing=("sms", "email")), phone="+12175550112",
                    email="day@example.com", account_id="A-day", tz=daytime_zone())

    h.cis.post("/v1/events", bill_ready("night-1", "A-night"))
    h.cis.post("/v1/events", bill_ready("day-1", "A-day"))

    expected = next_local_eight(local_now).astimezone(datetime.timezone.utc)
    held = event_messages(h.admin, "night-1")
    assert set(held) == {"sms", "email"}, held
    for channel, m in held.items():
        assert m["status"] == "scheduled", (zone, channel, m)
        assert m["not_before"], m
        assert parse_time(m["not_before"]) == expected, (zone, local_now.isoformat(), m["not_before"])
        assert m.get("decision"), m

    # The daytime customer's copies go straight out, so the hold above is the rule, not a stall.
    for m in event_messages(h.admin, "day-1").values():
        wait_message_status(h.admin, m["id"], "sent")
    for m in held.values():
        assert wait_message_status(h.admin, m["id"], "scheduled")["status"] == "scheduled"
