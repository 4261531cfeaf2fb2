"""Operations: health endpoints, Prometheus metrics after real traffic, check-config errors."""
import os
import re
import subprocess
import tempfile

from herald_e2e import SOURCE_DIR, bill_ready, create_customer, event_messages, preferences, wait_message_status

# name{label="value",...} value [timestamp]; label values may hold any character, escaped \\ \" \n.
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?'
                    r' (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?[0-9]+)?$')


def parse_metrics(text: str) -> dict:
    """{family: {"type": t, "samples": [(name, {labels}, value)]}}; raises on a malformed line."""
    families, types = {}, {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            types[name] = kind
            families.setdefault(name, {"type": kind, "samples": []})
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"malformed metrics line: {line!r}"
        name, labels_text = m.group(1), m.group(2) or ""
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels_text))
        family = next((f for f in (name, re.sub(r"_(bucket|sum|count)$", "", name)) if f in types), None)
        assert family, f"sample {name} without a # TYPE line"
        families[family]["samples"].append((name, labels, float(m.group(3))))
    return families


def find_family(families: dict, pattern: str, kind: str = None) -> tuple[str, dict]:
    for name, f in families.items():
        if re.search(pattern, name) and (kind is None or f["type"] == kind):
            return name, f
    raise AssertionError(f"no {kind or ''} metric family matching {pattern!r} in {sorted(families)}")


def test_health_endpoints_and_metrics_families_after_traffic(start_herald):
    h = start_herald({"HERALD_CHANNELS_SMS": "log", "HERALD_CHANNELS_EMAIL": "log"})
    assert h.public.get("/livez").status == 200
    assert h.public.get("/readyz").status == 200
    create_customer(h.cis, "C-1", preferences(billing=("sms", "email")), phone="+12175550141",
                    email="m@example.com", account_id="A-1")
    h.cis.post("/v1/events", bill_ready("m-1", "A-1"))
    for m in event_messages(h.admin, "m-1").values():
        wait_message_status(h.admin, m["id"], "sent")

    r = h.public.get("/metrics")
    assert r.status == 200, r
    assert r.headers.get("content-type", "").startswith("text/plain"), r.headers
    families = parse_metrics(r.text)

    name, requests = find_family(families, r"http_requests", "counter")
    assert sum(v for _, _, v in requests["samples"]) >= 4, requests
    _, events = find_family(families, r"^herald_events_total$", "counter")
    assert any(lbl.get("status") == "processed" and v >= 1 for _, lbl, v in events["samples"]), events
    _, created = find_family(families, r"^herald_messages_created_total$", "counter")
    assert {(lbl.get("channel"), lbl.get("status")) for _, lbl, v in created["samples"] if v >= 1} >= \
        {("sms", "queued"), ("email", "queued")}, created
    _, dispatched = find_family(families, r"^herald_messages_dispatched_total$", "counter")
    assert any(lbl.get("outcome") == "sent" and lbl.get("channel") == "sms" for _, lbl, _ in dispatched["samples"])
    _, latency = find_family(families, r"gateway.*(seconds|latency)", "histogram")
    assert any(n.endswith("_count") and v >= 2 for n, _, v in latency["samples"]), latency
    find_family(families, r"queue_depth", "gauge")
    _, claims = find_family(families, r"^herald_claim_batch_size$", "histogram")
    assert {lbl.get("loop") for n, lbl, v in claims["samples"] if n.endswith("_count") and v >= 1} >= \
        {"intake", "dispatch"}, claims


def test_check_config_names_the_bad_key(heraldd_binary):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    good = subprocess.run([heraldd_binary, "check-config"], env=env, cwd=SOURCE_DIR, capture_output=True, text=True)
    assert good.returncode == 0, good.stderr

    bad_env = dict(env, HERALD_DISPATCH_MAX_ATTEMPTS="lots")
    bad = subprocess.run([heraldd_binary, "check-config"], env=bad_env, cwd=SOURCE_DIR, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "dispatch.max_attempts" in bad.stdout + bad.stderr, bad.stdout + bad.stderr

    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write('[channels]\nsms = ["twilio"]\n[gateways.twilio]\ntype = "twilio"\naccount_sid = "AC1"\n'
                'auth_tokn = "x"\nfrom = "+12175550000"\n[dispatch]\nmax_attempts = 3\n')
    try:
        typo = subprocess.run([heraldd_binary, "check-config", "--config", f.name], env=env, cwd=SOURCE_DIR,
                              capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    assert typo.returncode != 0
    assert "gateways.twilio.auth_tokn" in typo.stdout + typo.stderr, typo.stdout + typo.stderr


def test_check_config_names_a_template_variable_its_type_does_not_declare(heraldd_binary, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    english = tmp_path / "templates" / "en"
    english.mkdir(parents=True)
    (english / "bill.ready.sms.mustache").write_text(
        "Due {{data.amount_due_formatted}} by {{data.due_date_formatted}}, late fee {{data.late_fee_formatted}}")
    config = tmp_path / "heraldd.toml"
    rules = f'[rules]\ntemplates_dir = "{english.parent}"\n'

    def check(text):
        config.write_text(text)
        return subprocess.run([heraldd_binary, "check-config", "--config", str(config)], env=env, cwd=SOURCE_DIR,
                              capture_output=True, text=True)

    undeclared = check(rules)
    assert undeclared.returncode != 0
    out = undeclared.stdout + undeclared.stderr
    assert "en/bill.ready.sms: data.late_fee_formatted is not a declared field of bill.ready" in out, out

    # Declaring the field in the config makes the same template pass.
    declared = check(rules + '[rules.types."bill.ready".data]\nlate_fee = { kind = "money" }\n')
    assert declared.returncode == 0, declared.stdout + declared.stderr

    # A declaration that makes no sense is named by its key.
    wrong_kind = check(rules + '[rules.types."bill.ready".data]\nlate_fee = { kind = "moneyy" }\n')
    assert wrong_kind.returncode != 0
    assert "rules.types.bill.ready.data.late_fee.kind" in wrong_kind.stdout + wrong_kind.stderr, \
        wrong_kind.stdout + wrong_kind.stderr
