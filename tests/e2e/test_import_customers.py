"""heraldd import-customers: JSON lines loaded in chunks, bad lines named by number with nothing of
them stored, a re-import changing nothing, and imported customers identical to PUT ones."""
import json
import os
import re
import tempfile

import pytest

from herald_e2e import customer_body, daytime_zone


def line_for(n: int) -> dict:
    body = customer_body(f"imp-{n}", phone=f"+1217{n:07d}", email=f"imp-{n}@example.com", voice=True)
    return {"customer_id": f"imp-{n}", **body}


def write_lines(lines: list[str]) -> str:
    f = tempfile.NamedTemporaryFile("w", prefix="herald-import-", suffix=".jsonl", delete=False)
    with f:
        f.write("\n".join(lines) + "\n")
    return f.name


def run_import(h, path: str, *extra: str):
    out = h.cli("import-customers", path, *extra, check=False, timeout=600)
    assert out.returncode in (0, 3), f"import-customers exited {out.returncode}: {out.stderr[-2000:]}"
    return out


def summary_counts(stdout: str) -> dict:
    m = re.search(r"(\d+) lines, (\d+) loaded \((\d+) created, (\d+) updated, (\d+) unchanged\), (\d+) rejected",
                  stdout)
    assert m, stdout
    keys = ["lines", "loaded", "created", "updated", "unchanged", "rejected"]
    return dict(zip(keys, map(int, m.groups())))


@pytest.mark.parametrize("jobs", ["1", "4"])
def test_ten_thousand_lines_with_three_bad_ones(start_herald, database, jobs):
    h = start_herald()
    lines = [json.dumps(line_for(n)) for n in range(1, 10001)]
    bad_phone = line_for(17)
    bad_phone["contacts"][0]["address"] = "not a number"
    lines[16] = json.dumps(bad_phone)
    lines[4999] = '{"customer_id": "imp-5000", "name": '  # cut off: not JSON
    no_zone = line_for(9999)
    del no_zone["accounts"][0]["timezone"]
    lines[9998] = json.dumps(no_zone)
    path = write_lines(lines)
    try:
        out = run_import(h, path, "--chunk", "1000", "--jobs", jobs)
        assert out.returncode == 3, out.stdout
        counts = summary_counts(out.stdout)
        assert counts["lines"] == 10000 and counts["loaded"] == 9997 and counts["created"] == 9997, out.stdout
        assert counts["rejected"] == 3
        rejected = re.findall(r"^rejected line (\d+)(?: \(customer ([^)]*)\))?: (.*)$", out.stdout, re.M)
        assert [(int(n), cid) for n, cid, _ in rejected] == [(17, "imp-17"), (5000, ""), (9999, "imp-9999")], out.stdout
        assert "contacts[0].address" in rejected[0][2]
        assert "invalid_json" in rejected[1][2]
        assert "accounts[0].timezone" in rejected[2][2]
        assert "lines read" in out.stderr or counts["lines"] == 10000  # progress goes to stderr

        # Nothing of a rejected line is stored; everything of the others is.
        assert database.scalar("SELECT count(*) FROM herald.customers") == "9997"
        assert database.scalar("SELECT count(*) FROM herald.accounts WHERE active") == "9997"
        assert database.scalar("SELECT count(*) FROM herald.contacts WHERE active AND verified AND source = 'cis'") == "29991"
        assert database.scalar("SELECT count(*) FROM herald.preferences") == "9997"
        assert database.scalar("SELECT count(*) FROM herald.preference_changes WHERE actor = 'import-customers'") == "9997"
        # sms and voice share a number: one consent record per (channel, address)
        assert database.scalar("SELECT count(*) FROM herald.consent_events WHERE source = 'cis'") == "29991"
        for cid in ("imp-17", "imp-5000", "imp-9999"):
            assert database.scalar(f"SELECT count(*) FROM herald.customers WHERE customer_id = '{cid}'") == "0"
            assert database.scalar(f"SELECT count(*) FROM herald.accounts WHERE customer_id = '{cid}'") == "0"
            assert database.scalar(f"SELECT count(*) FROM herald.contacts WHERE customer_id = '{cid}'") == "0"
        assert database.scalar("SELECT count(*) FROM herald.consent_events WHERE address = '+12170000017'") == "0"

        # Again: every customer is already what its line says.
        again = run_import(h, path, "--chunk", "1000", "--jobs", jobs)
        counts = summary_counts(again.stdout)
        assert (counts["created"], counts["updated"], counts["unchanged"], counts["rejected"]) == (0, 0, 9997, 3), again.stdout
        assert database.scalar("SELECT count(*) FROM herald.consent_events") == "29991"
        assert database.scalar("SELECT count(*) FROM herald.preference_changes") == "9997"
    finally:
        os.unlink(path)


def test_a_rejected_customer_in_a_chunk_leaves_the_rest_of_it_stored(start_herald, database):
    h = start_herald()
    h.cis.put("/v1/customers/owner", customer_body("owner", phone="+12175550150", account_id="A-taken"))
    lines = [json.dumps(line_for(n)) for n in range(1, 6)]
    thief = line_for(3)
    thief["accounts"][0]["account_id"] = "A-taken"
    lines[2] = json.dumps(thief)
    # The same customer twice: the later line wins, as two PUTs in turn would.
    renamed = line_for(5)
    renamed["name"] = "Renamed Five"
    lines.append(json.dumps(renamed))
    lines.insert(1, "")  # a blank line is skipped, not rejected
    path = write_lines(lines)
    try:
        out = run_import(h, path)
        assert out.returncode == 3
        assert re.search(r"^rejected line 4 \(customer imp-3\): accounts: .*account_owned_elsewhere", out.stdout, re.M), \
            out.stdout
        counts = summary_counts(out.stdout)
        assert (counts["created"], counts["updated"], counts["rejected"]) == (4, 1, 1), out.stdout
        assert database.scalar("SELECT count(*) FROM herald.contacts WHERE customer_id = 'imp-3'") == "0"
        assert database.scalar("SELECT customer_id FROM herald.accounts WHERE account_id = 'A-taken'") == "owner"
        assert h.cis.get("/v1/customers/imp-5").json()["name"] == "Renamed Five"
    finally:
        os.unlink(path)


def normalised(doc, cid: str, phone: str, email: str) -> str:
    """A customer's document with its own ids, number and email replaced, contact ids and times left out."""
    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in ("contact_id", "at")}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v
    text = json.dumps(strip(doc), sort_keys=True)
    return text.replace(phone, "PHONE").replace(email, "EMAIL").replace(cid, "ID")


def test_imported_customer_is_indistinguishable_from_one_put(start_herald, database):
    h = start_herald()
    zone = daytime_zone()
    put_body = customer_body("via-put", phone="+12175550161", email="via-put@example.com", tz=zone, voice=True)
    put_body["accounts"][0]["segments"] = ["medical", "low_income"]
    put_body["language"] = "es"
    assert h.cis.put("/v1/customers/via-put", put_body).status == 200
    imported = json.loads(json.dumps(put_body).replace("via-put", "via-import").replace("+12175550161", "+12175550162"))
    # An address with an opt-out in its history keeps it, through PUT and import alike.
    for phone in ("+12175550171", "+12175550172"):
        database.sql("INSERT INTO herald.consent_events (channel, address, state, source, evidence)"
                     f" VALUES ('sms', '{phone}', 'opted_out', 'sms', 'STOP')")
    put_body["contacts"].append({"channel": "sms", "address": "+12175550171"})
    assert h.cis.put("/v1/customers/via-put", put_body).status == 200
    imported["contacts"].append({"channel": "sms", "address": "+12175550172"})
    path = write_lines([json.dumps({"customer_id": "via-import", **imported})])
    try:
        out = run_import(h, path)
        assert out.returncode == 0, out.stdout
    finally:
        os.unlink(path)
    # Who wrote them (the API key, the import) differs; everything else must not.
    assert database.scalar("SELECT evidence FROM herald.consent_events WHERE address = 'via-import@example.com'") \
        == "customer via-import from import-customers"
    database.sql("UPDATE herald.consent_events SET evidence = regexp_replace(evidence, ' from .*$', ' from X')"
                 " WHERE source = 'cis'")

    def doc(cid: str, n: str) -> str:
        consent = h.cis.get(f"/v1/customers/{cid}/consent").json()
        # Records written in one statement have no order among themselves (a PUT's neither).
        consent["items"].sort(key=lambda i: (i["channel"], i["address"], i["source"]))
        parts = [h.cis.get(f"/v1/customers/{cid}").json(), h.cis.get(f"/v1/customers/{cid}/preferences").json(),
                 consent]
        text = normalised(parts, cid, "+121755501" + n, cid + "@example.com")
        return text.replace("+121755501" + str(int(n) + 10), "OTHER")

    put_doc, import_doc = doc("via-put", "61"), doc("via-import", "62")
    assert put_doc == import_doc
    assert '"consent": "opted_out"' in put_doc


def test_a_customer_listed_again_ends_as_its_last_line_says_with_parallel_chunks(start_herald, database):
    """Chunks of two lines merged four at a time: a chunk that names a customer, account or address of
    an earlier chunk still being merged waits for it, so the later line wins as PUTs in turn would."""
    h = start_herald()
    lines = []
    for n in range(1, 41):
        lines.append(json.dumps(line_for(n)))
        if n % 5 == 0:  # imp-(n-4) again, renamed, a few chunks later
            again = line_for(n - 4)
            again["name"] = f"Second {n - 4}"
            lines.append(json.dumps(again))
    # A new customer taking over imp-2's email: the address is in an earlier chunk too.
    sharing = line_for(100)
    sharing["contacts"].append({"channel": "email", "address": "imp-2@example.com"})
    lines.append(json.dumps(sharing))
    path = write_lines(lines)
    try:
        out = run_import(h, path, "--chunk", "2", "--jobs", "4")
        assert out.returncode == 0, out.stdout + out.stderr
        counts = summary_counts(out.stdout)
        assert (counts["created"], counts["updated"], counts["rejected"]) == (41, 8, 0), out.stdout
        for n in range(1, 37, 5):
            assert h.cis.get(f"/v1/customers/imp-{n}").json()["name"] == f"Second {n}"
        # One CIS opt-in per address, whoever gave it first.
        assert database.scalar("SELECT count(*) FROM herald.consent_events"
                               " WHERE channel = 'email' AND address = 'imp-2@example.com'") == "1"
        assert database.scalar("SELECT count(*) FROM herald.contacts"
                               " WHERE channel = 'email' AND address = 'imp-2@example.com' AND active") == "2"
    finally:
        os.unlink(path)


def test_a_new_customer_copied_in_is_indistinguishable_from_one_put(start_herald, database):
    """A customer that touches nothing stored is copied straight into the tables: the same customer,
    preferences, contacts and consent records as a PUT of it."""
    h = start_herald()
    zone = daytime_zone()
    put_body = customer_body("new-put", phone="+12175550181", email="new-put@example.com", tz=zone, voice=True)
    put_body["accounts"][0]["segments"] = ["medical", "low_income"]
    put_body["accounts"][0]["service_address"]["line2"] = 'Apt "2"\\tab'
    put_body["name"] = "Zoë \\ O'Brien"
    put_body["language"] = "es"
    assert h.cis.put("/v1/customers/new-put", put_body).status == 200
    imported = json.loads(json.dumps(put_body).replace("new-put", "new-import").replace("+12175550181", "+12175550182"))
    path = write_lines([json.dumps({"customer_id": "new-import", **imported})])
    try:
        out = run_import(h, path)
        assert out.returncode == 0, out.stdout
        assert summary_counts(out.stdout)["created"] == 1
    finally:
        os.unlink(path)
    database.sql("UPDATE herald.consent_events SET evidence = regexp_replace(evidence, ' from .*$', ' from X')"
                 " WHERE source = 'cis'")

    def doc(cid: str, n: str) -> str:
        consent = h.cis.get(f"/v1/customers/{cid}/consent").json()
        consent["items"].sort(key=lambda i: (i["channel"], i["address"], i["source"]))
        parts = [h.cis.get(f"/v1/customers/{cid}").json(), h.cis.get(f"/v1/customers/{cid}/preferences").json(),
                 consent]
        return normalised(parts, cid, "+121755501" + n, cid + "@example.com")

    assert doc("new-put", "81") == doc("new-import", "82")
    row = ("SELECT c.name, c.language, a.service_address::text, a.segments::text, p.topics::text, p.quiet_start,"
           " p.language, pc.old_value IS NULL, pc.new_value::text FROM herald.customers c"
           " JOIN herald.accounts a USING (customer_id) JOIN herald.preferences p USING (customer_id)"
           " JOIN herald.preference_changes pc USING (customer_id) WHERE c.customer_id = '{}'")
    assert database.scalar(row.format("new-put")) == database.scalar(row.format("new-import"))
    assert database.scalar("SELECT array_agg(channel ORDER BY contact_id)::text FROM herald.contacts"
                           " WHERE customer_id = 'new-put'") == \
        database.scalar("SELECT array_agg(channel ORDER BY contact_id)::text FROM herald.contacts"
                        " WHERE customer_id = 'new-import'")
