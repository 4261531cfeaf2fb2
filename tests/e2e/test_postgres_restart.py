"""The daemon survives a Postgres restart: it reconnects and processes what arrives afterwards,
over HTTP and by direct INSERT (the LISTEN connection comes back or the catch-up poll finds it)."""
import json

import pytest

from herald_e2e import (PgCluster, bill_ready, create_customer, event_messages, http_get_status, poll, preferences,
                        sql_literal, wait_message_status)


@pytest.fixture
def private_cluster():
    # A cluster of its own: restarting the shared ctest cluster would disturb other tests.
    cluster = PgCluster.start_private()
    yield cluster
    cluster.stop()


def test_daemon_reconnects_after_postgres_restart_and_processes_new_events(start_herald, private_cluster):
    db = private_cluster.create_database()
    h = start_herald({"HERALD_CHANNELS_SMS": "log", "HERALD_CHANNELS_EMAIL": "log"}, db=db)
    create_customer(h.cis, "C-1", preferences(billing=("sms", "email")), phone="+12175550151",
                    email="pg@example.com", account_id="A-1")
    h.cis.post("/v1/events", bill_ready("before", "A-1"))
    for m in event_messages(h.admin, "before").values():
        wait_message_status(h.admin, m["id"], "sent")

    private_cluster.pg_ctl("-w", "-m", "fast", "stop")
    poll(lambda: http_get_status(h.base_url + "/readyz") == 503, timeout=15, what="/readyz 503 while Postgres is down")
    assert http_get_status(h.base_url + "/livez") == 200
    private_cluster.pg_ctl("-w", "restart")  # not running: starts with the options it last ran with

    def accepted():
        r = h.cis.post("/v1/events", bill_ready("after-http", "A-1", amount="7.00"))
        return r if r.status in (200, 202) else None
    poll(accepted, timeout=30, interval=0.2, what="POST /v1/events accepted after the restart")
    poll(lambda: http_get_status(h.base_url + "/readyz") == 200, timeout=15, what="/readyz 200 again")
    for m in event_messages(h.admin, "after-http", timeout=30).values():
        wait_message_status(h.admin, m["id"], "sent", timeout=30)

    data = json.dumps({"amount_due": "8.00", "due_date": "2099-01-31", "bill_url": "https://b.example/x"})
    db.sql("INSERT INTO herald.events (event_id, type, account_id, occurred_at, data) VALUES "
           f"('after-db', 'bill.ready', 'A-1', now(), {sql_literal(data)}::jsonb)")
    produced = event_messages(h.admin, "after-db", timeout=30)
    assert set(produced) == {"sms", "email"}, produced
    assert h.running, "heraldd exited during the Postgres restart"
