"""Start and stop as an orchestrator sees them: draining is visible on /readyz before the listener
closes, and a daemon started before its database serves health at once and starts when it arrives."""
import signal

from herald_e2e import (Heraldd, PgCluster, bill_ready, create_customer, free_port, http_get_status, poll,
                        post_event, wait_event_processed)


def status_change(url: str, away_from: int):
    """Polls url until its status is not `away_from`; returns the new status (0: nothing answered)."""
    return poll(lambda: (lambda s: (s,) if s != away_from else None)(http_get_status(url)), timeout=10,
                what=f"{url} to stop answering {away_from}")[0]


def test_sigterm_turns_readyz_503_while_the_listener_still_accepts(start_herald):
    h = start_herald({"HERALD_SERVER_DRAIN_DELAY_SECONDS": "4", "HERALD_SERVER_SHUTDOWN_GRACE_SECONDS": "20"})
    assert http_get_status(h.base_url + "/readyz") == 200

    h.proc.send_signal(signal.SIGTERM)
    # Connection refused (0) here would mean the listener closed without readiness ever saying so.
    assert status_change(h.base_url + "/readyz", 200) == 503
    assert http_get_status(h.base_url + "/livez") == 200
    r = h.public.get("/readyz")
    assert r.status == 503 and r.json()["status"] == "draining", r

    rc = h.proc.wait(timeout=30)
    h.exit_codes.append(rc)
    assert rc == 0, h.log_tail()
    assert "readiness 503 for 4 s" in h.log_text()


def test_starts_without_a_database_and_begins_work_when_it_arrives(heraldd_binary):
    pg_port = free_port()
    # No configured token secret: it is generated in the database, so nothing can be served
    # from it until the database is there.
    h = Heraldd(heraldd_binary, f"postgresql://postgres@127.0.0.1:{pg_port}/postgres",
                {"HERALD_CHANNELS_SMS": "log", "HERALD_CHANNELS_EMAIL": "log", "HERALD_AUTH_TOKEN_SECRET": ""})
    h.start(wait_ready=False)
    cluster = None
    try:
        poll(lambda: http_get_status(h.base_url + "/livez") == 200, timeout=10, what="livez 200 without a database")
        assert http_get_status(h.base_url + "/readyz") == 503
        r = h.public.get("/v1/customers/C-1", headers={"Authorization": "Bearer whatever"})
        assert r.status == 503 and r.headers.get("retry-after"), r
        poll(lambda: "retrying in" in h.log_text(), timeout=10, what="a logged retry")

        cluster = PgCluster.start_private(port=pg_port)
        h.migrate()
        h.provision_keys()
        poll(lambda: http_get_status(h.base_url + "/readyz") == 200, timeout=30, what="readyz 200 once the database is up")

        create_customer(h.cis, "C-1", phone="+12175550141", email="c1@example.com", account_id="A-1")
        post_event(h.cis, bill_ready("late-1", "A-1"))
        assert wait_event_processed(h.admin, "late-1")["status"] == "processed"
        assert h.terminate(timeout=30) == 0
    finally:
        if h.running:
            h.proc.kill()
            h.proc.wait(10)
        if cluster is not None:
            cluster.stop()


def test_sigterm_while_waiting_for_the_database_exits_0_promptly(heraldd_binary):
    h = Heraldd(heraldd_binary, f"postgresql://postgres@127.0.0.1:{free_port()}/postgres",
                {"HERALD_SERVER_SHUTDOWN_GRACE_SECONDS": "60", "HERALD_AUTH_TOKEN_SECRET": ""})
    h.start(wait_ready=False)
    try:
        poll(lambda: http_get_status(h.base_url + "/livez") == 200, timeout=10, what="livez 200 without a database")
        assert http_get_status(h.base_url + "/readyz") == 503
        # Well inside the grace period: a daemon that ignored the signal would still be waiting.
        assert h.terminate(timeout=10) == 0
    finally:
        if h.running:
            h.proc.kill()
            h.proc.wait(10)
