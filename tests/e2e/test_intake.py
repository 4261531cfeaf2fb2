"""Event intake: event_id idempotency over HTTP and rows a CIS inserts straight into herald.events."""
import json
import time

from herald_e2e import (bill_ready, create_customer, event_messages, poll, post_event, preferences, sql_literal,
                        wait_event_processed)


def start(start_herald):
    h = start_herald({"HERALD_CHANNELS_SMS": "log", "HERALD_CHANNELS_EMAIL": "log"})
    create_customer(h.cis, "C-1", preferences(billing=("sms", "email")), phone="+12175550101",
                    email="ada@example.com", account_id="A-1001")
    return h


def test_same_event_id_twice_gives_one_set_of_messages_and_other_body_conflicts(start_herald, database):
    h = start(start_herald)
    event = bill_ready("cis-8812", "A-1001")

    first = h.cis.post("/v1/events", event)
    assert first.status == 202, first
    again = h.cis.post("/v1/events", event)
    assert again.status == 200, again
    assert again.json()["event_id"] == "cis-8812"

    produced = event_messages(h.admin, "cis-8812")
    assert set(produced) == {"sms", "email"}, produced

    # Once processed, a replay still answers 200 and creates nothing.
    assert h.cis.post("/v1/events", event).status == 200
    changed = dict(event, data=dict(event["data"], amount_due="1.00"))
    conflict = h.cis.post("/v1/events", changed)
    assert conflict.status == 409, conflict
    assert conflict.json()["error"]["code"], conflict

    batch = h.cis.post("/v1/events/batch", {"events": [event, bill_ready("cis-8813", "A-1001")]})
    assert batch.status in (200, 207), batch
    statuses = [(r["event_id"], r["status"]) for r in batch.json()["results"]]
    assert statuses == [("cis-8812", "duplicate"), ("cis-8813", "accepted")], statuses

    wait_event_processed(h.admin, "cis-8813")
    assert database.scalar("SELECT count(*) FROM herald.events WHERE event_id = 'cis-8812'") == "1"
    assert database.scalar("SELECT count(*) FROM herald.messages WHERE event_id = 'cis-8812'") == "2"
    listed = h.admin.get("/v1/messages?customer_id=C-1&limit=500").json()["items"]
    assert sorted(m["event_id"] for m in listed) == ["cis-8812", "cis-8812", "cis-8813", "cis-8813"], listed


def test_invalid_event_is_rejected_whole_and_stores_nothing(start_herald, database):
    h = start(start_herald)
    unknown_type = dict(bill_ready("bad-1", "A-1001"), type="bill.exploded")
    r = h.cis.post("/v1/events", unknown_type)
    assert r.status == 422 and r.json()["error"]["field"] == "type", r
    missing_account = bill_ready("bad-2", "A-1001")
    del missing_account["account_id"]
    r = h.cis.post("/v1/events", missing_account)
    assert r.status == 422 and r.json()["error"]["field"] == "account_id", r
    assert database.scalar("SELECT count(*) FROM herald.events") == "0"


def test_bill_ready_for_a_default_customer_writes_a_row_per_chosen_channel_only(start_herald, database):
    # Default preferences (billing on sms + email) and contacts on all three channels: voice is
    # reachable but not chosen, and gets no row.
    h = start_herald({"HERALD_CHANNELS_SMS": "log", "HERALD_CHANNELS_EMAIL": "log", "HERALD_CHANNELS_VOICE": "log"})
    create_customer(h.cis, "C-7", phone="+12175550107", email="c7@example.com", voice=True, account_id="A-7")
    post_event(h.cis, bill_ready("rows-1", "A-7"))
    assert wait_event_processed(h.admin, "rows-1")["status"] == "processed"
    rows = database.scalar("SELECT string_agg(channel || ':' || coalesce(suppression_reason, '-'), ',' "
                           "ORDER BY channel) FROM herald.messages WHERE event_id = 'rows-1'")
    print(f"bill.ready for a default customer wrote: {rows}")
    assert rows == "email:-,sms:-", rows

    # With billing switched off on every channel, one row says why the customer hears nothing.
    p = h.cis.put("/v1/customers/C-7/preferences", preferences(billing=()))
    assert p.status == 200, p
    post_event(h.cis, bill_ready("rows-2", "A-7"))
    assert wait_event_processed(h.admin, "rows-2")["status"] == "processed"
    rows = database.scalar("SELECT string_agg(channel || ':' || status || ':' || suppression_reason, ',') "
                           "FROM herald.messages WHERE event_id = 'rows-2'")
    assert rows == "sms:suppressed:preference_off", rows


def insert_event_sql(event_id: str, account_id: str, type_: str = "bill.ready", data=None) -> str:
    data = data or {"amount_due": "41.00", "due_date": "2099-01-31", "bill_url": "https://b.example/x"}
    return ("INSERT INTO herald.events (event_id, type, account_id, occurred_at, data) VALUES ("
            f"{sql_literal(event_id)}, {sql_literal(type_)}, {sql_literal(account_id)}, now(), "
            f"{sql_literal(json.dumps(data))}::jsonb)")


def test_event_inserted_into_events_table_is_processed_within_a_second(start_herald, database):
    h = start(start_herald)
    for i in range(3):
        event_id = f"db-{i}"
        started = time.monotonic()
        database.sql(insert_event_sql(event_id, "A-1001"))
        database_done = time.monotonic()

        def processed():
            r = h.admin.get(f"/v1/events/{event_id}")
            return r.json() if r.status == 200 and r.json()["status"] == "processed" else None
        ev = poll(processed, timeout=5, interval=0.01, what=f"{event_id} processed")
        elapsed = time.monotonic() - started
        assert elapsed < 1.0, f"{event_id} took {elapsed:.3f} s from INSERT to processed (psql took " \
                              f"{database_done - started:.3f} s)"
        assert len(ev["message_ids"]) == 2, ev
    assert database.scalar("SELECT count(*) FROM herald.messages WHERE event_id LIKE 'db-%'") == "6"


def test_bad_row_inserted_directly_is_rejected_with_an_error(start_herald, database):
    h = start(start_herald)
    database.sql(insert_event_sql("db-bad-type", "A-1001", type_="bill.exploded"))
    database.sql(insert_event_sql("db-no-account", "A-404"))
    for event_id in ("db-bad-type", "db-no-account"):
        ev = wait_event_processed(h.admin, event_id, timeout=10)
        assert ev["status"] == "rejected", ev
        assert ev.get("error"), ev
        assert ev["message_ids"] == [], ev
    # Data the type's templates could not print is refused the same way as over HTTP.
    for event_id, amount in (("db-abc", "abc"), ("db-negative", "-5.00"), ("db-huge", "1e308")):
        database.sql(insert_event_sql(event_id, "A-1001", data={"amount_due": amount, "due_date": "2099-01-31"}))
        ev = wait_event_processed(h.admin, event_id, timeout=10)
        assert ev["status"] == "rejected", ev
        assert ev["message_ids"] == [], ev
        stored = database.scalar("SELECT status || ' ' || (error->>'field') || ' ' || (error->>'code') "
                                 f"FROM herald.events WHERE event_id = {sql_literal(event_id)}")
        assert stored == "rejected data.amount_due invalid_data", stored
    # The intake loop keeps going after a rejection.
    database.sql(insert_event_sql("db-good", "A-1001"))
    assert wait_event_processed(h.admin, "db-good")["status"] == "processed"
