"""Outage reports from the outside: filed through the API and by SMS OUT, forwarded to the fake OMS
(tests/fakes/fake_oms.py) by a running heraldd: exactly once per report however often the OMS
fails, retried while the OMS refuses the signature, and still delivered after a restart."""
import pytest

from fake_oms import FakeOms
from fake_twilio import post_form, twilio_signature
from herald_e2e import create_customer, poll

PHONE = "+12175550123"


@pytest.fixture
def fake_oms():
    oms = FakeOms().start()
    yield oms
    oms.stop()


def oms_env(oms: FakeOms, secret: str = None, **extra) -> dict:
    env = {"HERALD_OMS_REPORTS_URL": oms.reports_url,
           "HERALD_OMS_SECRET": secret or oms.secret,
           "HERALD_OMS_TIMEOUT_MS": "2000",
           # Quick retries, so a test sees several within seconds.
           "HERALD_OMS_BACKOFF_BASE_MS": "100",
           "HERALD_OMS_BACKOFF_CAP_MS": "400",
           "HERALD_OMS_POLL_INTERVAL_MS": "100"}
    env.update({f"HERALD_OMS_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def forwarding(h, report_id: str) -> dict:
    items = h.cis.get("/v1/outage-reports?limit=500").json()["items"]
    return next(item["forwarding"] for item in items if item["report_id"] == report_id)


def file_report(h, account_id: str, note: str = "no power") -> dict:
    r = h.cis.post("/v1/outage-reports", {"account_id": account_id, "source": "api", "note": note})
    assert r.status == 201, r
    return r.json()


def test_report_without_an_outage_has_none_and_arrives_once_after_the_oms_comes_back(start_herald, fake_oms):
    fake_oms.fail_next(3)
    h = start_herald(oms_env(fake_oms))
    create_customer(h.cis, "C-1")
    filed = file_report(h, "A-C-1", "lines down on Elm St")
    assert filed["outage_id"] is None

    poll(lambda: forwarding(h, filed["report_id"])["state"] == "delivered", timeout=30,
         what="the report delivered to the OMS")
    state = fake_oms.state()
    assert [r["report_id"] for r in state["reports"]] == [filed["report_id"]]
    report = state["reports"][0]
    assert (report["account_id"], report["premise_id"], report["source"], report["note"]) == \
        ("A-C-1", "P-C-1", "api", "lines down on Elm St")
    # Three 503s, then the one accepted request: the same key every time.
    assert [r["status"] for r in state["requests"]] == [503, 503, 503, 200]
    assert len({r["headers"]["idempotency-key"] for r in state["requests"]}) == 1
    assert list(state["accepted"].values()) == [1]
    f = forwarding(h, filed["report_id"])
    assert f["attempts"] == 4 and f["http_status"] == 200


def test_wrong_secret_is_refused_and_retried_then_delivered_once_after_the_fix(start_herald, fake_oms):
    wrong = start_herald(oms_env(fake_oms, secret="not-the-oms-secret"))
    create_customer(wrong.cis, "C-2")
    filed = file_report(wrong, "A-C-2")
    poll(lambda: fake_oms.state()["bad_signatures"] >= 2, timeout=30, what="the refused request retried")
    f = forwarding(wrong, filed["report_id"])
    assert f["state"] == "pending" and f["http_status"] == 401, f
    assert fake_oms.state()["reports"] == []
    assert wrong.terminate() == 0

    fixed = start_herald(oms_env(fake_oms), db=None)
    poll(lambda: len(fake_oms.state()["reports"]) == 1, timeout=30, what="the report delivered after the fix")
    poll(lambda: forwarding(fixed, filed["report_id"])["state"] == "delivered", timeout=10, what="recorded delivered")
    assert fake_oms.state()["reports"][0]["report_id"] == filed["report_id"]


def test_pending_forward_survives_a_restart(start_herald, fake_oms, database):
    fake_oms.set_down(True)
    h = start_herald(oms_env(fake_oms))
    create_customer(h.cis, "C-3")
    filed = file_report(h, "A-C-3")
    poll(lambda: forwarding(h, filed["report_id"])["attempts"] >= 1, timeout=30, what="a first refused attempt")
    assert h.terminate() == 0
    assert database.scalar("SELECT state FROM herald.outage_report_forwards") == "pending"

    fake_oms.set_down(False)
    h.start()
    poll(lambda: len(fake_oms.state()["reports"]) == 1, timeout=30, what="the report delivered after the restart")
    poll(lambda: forwarding(h, filed["report_id"])["state"] == "delivered", timeout=10, what="recorded delivered")
    assert list(fake_oms.state()["accepted"].values()) == [1]


def test_sms_out_files_a_report_that_is_forwarded(start_herald, fake_oms, fake_twilio, gateways):
    h = start_herald({**gateways(twilio=fake_twilio), **oms_env(fake_oms)})
    create_customer(h.cis, "C-4", phone=PHONE)
    url = f"{h.base_url}/v1/webhooks/twilio/sms"
    params = {"MessageSid": "SM" + "4" * 32, "AccountSid": fake_twilio.account_sid, "From": PHONE,
              "To": "+12175550000", "Body": "OUT"}
    code, body = post_form(url, params, {"X-Twilio-Signature": twilio_signature(fake_twilio.auth_token, url, params)})
    assert code == 200, body
    assert "OR-" in body, body

    poll(lambda: len(fake_oms.state()["reports"]) == 1, timeout=30, what="the SMS report at the OMS")
    report = fake_oms.state()["reports"][0]
    assert (report["source"], report["account_id"], report["premise_id"]) == ("sms", "A-C-4", "P-C-4")
    assert report["report_id"] in body
    # The OMS has it once it answered; Herald marks it delivered right after reading that answer.
    listed = lambda: [(i["source"], i["outage_id"], i["forwarding"]["state"])  # noqa: E731
                      for i in h.cis.get("/v1/outage-reports?premise_id=P-C-4").json()["items"]]
    poll(lambda: listed() == [("sms", None, "delivered")], timeout=15, what="the report listed as delivered",
         show=listed)
