"""Who may read what (customer tokens, API key roles) and the Twilio webhook signature check."""
from fake_twilio import post_form, twilio_signature
from herald_e2e import Api, create_customer, preferences

DOC_TOKEN = "12345"
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def portal_token(h, customer_id: str) -> str:
    r = h.cis.post(f"/v1/customers/{customer_id}/portal-tokens", {})
    assert r.status in (200, 201), r
    assert r.json()["expires_at"] and r.json()["url"], r.json()
    return r.json()["token"]


def test_customer_token_reaches_only_its_own_customer_and_cis_key_not_admin_routes(start_herald):
    h = start_herald()
    create_customer(h.cis, "C-A", preferences(), phone="+12175550131", email="a@example.com")
    create_customer(h.cis, "C-B", preferences(), phone="+12175550132", email="b@example.com")
    as_a = Api(h.base_url, portal_token(h, "C-A"))

    own = as_a.get("/v1/customers/C-A/preferences")
    assert own.status == 200 and own.json()["topics"]["billing"]["channels"], own
    b_before = h.cis.get("/v1/customers/C-B/preferences").json()
    for method, path in (("GET", "/v1/customers/C-B/preferences"), ("PUT", "/v1/customers/C-B/preferences"),
                         ("GET", "/v1/customers/C-404/preferences")):
        r = as_a.request(method, path, preferences(billing=(), other=()) if method == "PUT" else None)
        assert r.status == 404, (method, path, r)
    assert h.cis.get("/v1/customers/C-B/preferences").json() == b_before, "A's token changed B's preferences"
    # A customer token is not an API key.
    assert as_a.get("/v1/messages").status in (403, 404)
    assert as_a.post("/v1/events", {}).status in (403, 404)

    for path in ("/v1/messages", "/v1/messages/1", "/v1/reports/volume?bucket=day"):
        r = h.cis.get(path)
        assert r.status == 403, (path, r)
        assert r.json()["error"]["code"], r
        assert h.admin.get(path).status in (200, 404), path
    assert h.public.get("/v1/messages").status == 401
    assert Api(h.base_url, "not-a-key").get("/v1/messages").status == 401
    tampered = as_a.token[:-3] + ("xyz" if not as_a.token.endswith("xyz") else "abc")
    assert Api(h.base_url, tampered).get("/v1/customers/C-A/preferences").status == 401


def test_twilio_signature_documentation_example_and_running_webhook(start_herald, database):
    # The signing code the fake uses reproduces Twilio's documented example.
    assert twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS) == DOC_SIGNATURE
    assert twilio_signature(DOC_TOKEN, DOC_URL, dict(DOC_PARAMS, Digits="1235")) != DOC_SIGNATURE

    h = start_herald({"HERALD_CHANNELS_SMS": "twilio", "HERALD_GATEWAYS_TWILIO_TYPE": "twilio",
                      "HERALD_GATEWAYS_TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
                      "HERALD_GATEWAYS_TWILIO_AUTH_TOKEN": DOC_TOKEN,
                      "HERALD_GATEWAYS_TWILIO_FROM": "+12175550000",
                      "HERALD_GATEWAYS_TWILIO_BASE_URL": "http://127.0.0.1:9"})
    url = f"{h.base_url}/v1/webhooks/twilio/status"

    # The documentation's parameters, signed for this webhook's public URL with the same token.
    good = twilio_signature(DOC_TOKEN, url, DOC_PARAMS)
    code, body = post_form(url, DOC_PARAMS, {"X-Twilio-Signature": good})
    assert code != 403 and code < 500, (code, body)
    code, _ = post_form(url, dict(DOC_PARAMS, Digits="1235"), {"X-Twilio-Signature": good})
    assert code == 403
    code, _ = post_form(url, DOC_PARAMS, {"X-Twilio-Signature": DOC_SIGNATURE})  # signed for another URL
    assert code == 403
    code, _ = post_form(url, DOC_PARAMS)
    assert code == 403

    callback = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "AccountSid": "AC" + "1" * 32}
    signature = twilio_signature(DOC_TOKEN, url, callback)
    code, _ = post_form(url, dict(callback, MessageStatus="failed"), {"X-Twilio-Signature": signature})
    assert code == 403
    assert database.scalar("SELECT count(*) FROM herald.delivery_receipts") == "0", "a forged callback was stored"
    code, body = post_form(url, callback, {"X-Twilio-Signature": signature})
    assert code in (200, 204), (code, body)
