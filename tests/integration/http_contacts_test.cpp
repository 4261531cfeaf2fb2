// Over real HTTP: contacts a customer adds on the web (double opt-in by code or by replying YES),
// their removal, the consent history, and that a pending contact receives nothing until verified.
#include <regex>

#include "herald/engine/engine.hpp"
#include "herald/store/contacts.hpp"
#include "http_test_client.hpp"

namespace herald::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kNewPhone = "+12175550199";

class HttpContacts : public HttpServerFixture {
 protected:
  HttpResponse add(const std::string& customer, const Json& contact, const std::string& token = {}) {
    return call("POST", "/v1/customers/" + customer + "/contacts", token.empty() ? customer_token(customer) : token,
                contact);
  }
  HttpResponse add_phone(const std::string& customer = "c1", const std::string& phone = kNewPhone) {
    return add(customer, Json{{"channel", "sms"}, {"address", phone}});
  }
  HttpResponse verify(const std::string& customer, const std::string& code, const std::string& channel = "sms",
                      const std::string& address = kNewPhone) {
    return call("POST", "/v1/customers/" + customer + "/contacts/verify", customer_token(customer),
                Json{{"channel", channel}, {"address", address}, {"code", code}});
  }
  std::string sql(const std::string& query) { return db_->query_value(query); }

  // The code as the newest verification message to `address` carries it.
  std::string sent_code(const std::string& address = kNewPhone) {
    const auto body = sql("SELECT body FROM herald.messages WHERE type = 'contact.verification' AND address = '" +
                          address + "' ORDER BY id DESC LIMIT 1");
    std::smatch m;
    if (!std::regex_search(body, m, std::regex(R"(\b(\d{6})\b)"))) return "";
    return m[1];
  }
  static std::string wrong(const std::string& code) { return code == "000000" ? "111111" : "000000"; }
};

TEST_F(HttpContacts, AddingAContactMakesItPendingAndQueuesACodeTextAtTheTopPriority) {
  put_customer("c1");
  const auto before = clock_.now();
  auto r = add("c1", Json{{"channel", "sms"}, {"address", "(217) 555-0199"}});
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json()["status"], "pending_verification");
  const auto expires = parse_time(r.json()["expires_at"].get<std::string>());
  ASSERT_TRUE(expires);
  EXPECT_GE(*expires, before + 15min - 1s);
  EXPECT_LE(*expires, clock_.now() + 15min);

  EXPECT_EQ(sql("SELECT verified::text || ' ' || source || ' ' || active::text FROM herald.contacts"
                " WHERE address = '+12175550199'"),
            "false web true");
  EXPECT_EQ(sql("SELECT status || ' ' || priority || ' ' || topic FROM herald.messages WHERE type = 'contact.verification'"),
            "queued 100 other");
  const auto code = sent_code();
  ASSERT_EQ(code.size(), 6u);
  const auto body = sql("SELECT body FROM herald.messages WHERE type = 'contact.verification'");
  EXPECT_NE(body.find("reply YES"), std::string::npos) << body;
  // Only the hash is kept with the verification.
  EXPECT_EQ(sql("SELECT count(*) FROM herald.contact_verifications WHERE code_hash LIKE '%" + code + "%'"), "0");
  EXPECT_EQ(sql("SELECT count(*) FROM herald.message_queue"), "1");
  // The preference center lists it, unverified.
  auto prefs = call("GET", "/v1/customers/c1/preferences", customer_token("c1")).json();
  bool listed = false;
  for (const auto& c : prefs["contacts"])
    if (c["address"] == kNewPhone) listed = !c["verified"].get<bool>();
  EXPECT_TRUE(listed) << prefs.dump();
}

TEST_F(HttpContacts, TheRightCodeVerifiesAndRecordsConsentNamingTheVerificationNotTheCode) {
  put_customer("c1");
  ASSERT_EQ(add_phone().status, 202);
  const auto code = sent_code();
  auto r = verify("c1", code);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["address"], kNewPhone);
  EXPECT_EQ(r.json()["verified"], true);
  EXPECT_EQ(r.json()["consent"], "opted_in");
  const auto evidence = sql("SELECT source || ' ' || state || ' ' || evidence FROM herald.consent_events"
                            " WHERE address = '" + std::string(kNewPhone) + "' ORDER BY id DESC LIMIT 1");
  EXPECT_EQ(evidence.rfind("web opted_in verification:", 0), 0u) << evidence;
  EXPECT_EQ(evidence.find(code), std::string::npos) << evidence;
  EXPECT_EQ(sql("SELECT verified::text FROM herald.contacts WHERE address = '" + std::string(kNewPhone) + "'"), "true");
  // Asking again changes nothing.
  EXPECT_EQ(verify("c1", code).status, 200);
  EXPECT_EQ(sql("SELECT count(*) FROM herald.consent_events WHERE source = 'web'"), "1");
}

TEST_F(HttpContacts, WrongCodesAreRefusedAndTheFifthLocksUntilTheContactIsAddedAgain) {
  put_customer("c1");
  ASSERT_EQ(add_phone().status, 202);
  const auto code = sent_code();
  for (int i = 1; i <= 4; ++i) {
    auto r = verify("c1", wrong(code));
    ASSERT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(r.json()["error"]["field"], "code");
    EXPECT_EQ(r.json()["error"]["code"], "invalid_code");
  }
  auto fifth = verify("c1", wrong(code));
  ASSERT_EQ(fifth.status, 422);
  EXPECT_EQ(fifth.json()["error"]["code"], "verification_locked");
  // Locked: even the right code no longer works.
  EXPECT_EQ(verify("c1", code).json()["error"]["code"], "verification_locked");
  EXPECT_EQ(sql("SELECT verified::text FROM herald.contacts WHERE address = '" + std::string(kNewPhone) + "'"), "false");
  // A malformed code is not counted against anything: it names the field.
  EXPECT_EQ(verify("c1", "12ab").json()["error"]["field"], "code");

  ASSERT_EQ(add_phone().status, 202);  // starts over with a new code
  const auto second = sent_code();
  EXPECT_EQ(verify("c1", second).status, 200);
}

TEST_F(HttpContacts, AnExpiredCodeIsRefused) {
  put_customer("c1");
  ASSERT_EQ(add_phone().status, 202);
  const auto code = sent_code();
  clock_.advance(15min + 1s);
  auto r = verify("c1", code);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["code"], "verification_expired");
  EXPECT_EQ(r.json()["error"]["field"], "code");
}

TEST_F(HttpContacts, AnotherCustomersTokenFindsNothing) {
  put_customer("c1");
  put_customer("c2", "+12175550102");
  ASSERT_EQ(add_phone().status, 202);
  const auto other = customer_token("c2");
  EXPECT_EQ(add("c1", Json{{"channel", "sms"}, {"address", "+12175550177"}}, other).status, 404);
  EXPECT_EQ(call("POST", "/v1/customers/c1/contacts/verify", other,
                 Json{{"channel", "sms"}, {"address", kNewPhone}, {"code", sent_code()}})
                .status,
            404);
  EXPECT_EQ(call("DELETE", "/v1/customers/c1/contacts/sms/%2B12175550199", other).status, 404);
  EXPECT_EQ(call("GET", "/v1/customers/c1/consent", other).status, 404);
  EXPECT_EQ(sql("SELECT verified::text FROM herald.contacts WHERE address = '" + std::string(kNewPhone) + "'"), "false");
  EXPECT_EQ(sql("SELECT count(*) FROM herald.contacts WHERE address = '+12175550177'"), "0");
}

TEST_F(HttpContacts, BadInputNamesTheField) {
  put_customer("c1");
  auto r = add("c1", Json{{"channel", "fax"}, {"address", kNewPhone}});
  EXPECT_EQ(r.json()["error"]["field"], "channel");
  r = add("c1", Json{{"channel", "sms"}, {"address", "not a number"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json()["error"]["field"], "address");
  r = add("c1", Json{{"channel", "email"}, {"address", "nobody"}});
  EXPECT_EQ(r.json()["error"]["field"], "address");
  EXPECT_EQ(add("nobody", Json{{"channel", "sms"}, {"address", kNewPhone}}, admin_key_).status, 404);
  // A contact the CIS gave is verified already.
  r = add("c1", Json{{"channel", "sms"}, {"address", "+12175550101"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.json()["error"]["code"], "contact_already_verified");
  EXPECT_EQ(sql("SELECT count(*) FROM herald.contact_verifications"), "0");
}

TEST_F(HttpContacts, AnAddressThatOptedOutGetsNoCode) {
  put_customer("c1");
  db_->exec("INSERT INTO herald.consent_events (channel, address, state, source, evidence)"
            " VALUES ('sms', '+12175550199', 'opted_out', 'sms', 'STOP')");
  auto r = add_phone();
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["code"], "address_opted_out");
  EXPECT_EQ(sql("SELECT count(*) FROM herald.messages"), "0");
}

TEST_F(HttpContacts, CodesAreRateLimitedPerCustomerAndPerAddress) {
  put_customer("c1");
  put_customer("c2", "+12175550102");
  for (int i = 0; i < 5; ++i) ASSERT_EQ(add_phone("c1", "+1217555017" + std::to_string(i)).status, 202);
  auto r = add_phone("c1", "+12175550179");
  ASSERT_EQ(r.status, 429) << r.body;
  const auto retry_after = std::stoi(r.header("retry-after"));
  EXPECT_GT(retry_after, 3500);
  EXPECT_LE(retry_after, 3600);
  // One number cannot be flooded through several customers either.
  for (int i = 0; i < 4; ++i) ASSERT_EQ(add_phone("c2", "+12175550170").status, 202) << i;
  EXPECT_EQ(add_phone("c2", "+12175550170").status, 429);
  EXPECT_EQ(add_phone("c2", "+12175550188").status, 202);
  EXPECT_EQ(sql("SELECT count(*) FROM herald.messages WHERE type = 'contact.verification'"), "10");

  clock_.advance(61min);
  EXPECT_EQ(add_phone("c1", "+12175550179").status, 202);
}

TEST_F(HttpContacts, OnlyContactsAddedOnTheWebCanBeRemovedAndTheirHistoryStays) {
  put_customer("c1");
  ASSERT_EQ(add_phone().status, 202);
  ASSERT_EQ(verify("c1", sent_code()).status, 200);
  auto r = call("DELETE", "/v1/customers/c1/contacts/sms/+12175550101", customer_token("c1"));
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.json()["error"]["code"], "contact_from_cis");
  EXPECT_EQ(call("DELETE", "/v1/customers/c1/contacts/sms/+12175550111", customer_token("c1")).status, 404);

  // A CIS re-sync that does not list the web contact leaves it alone.
  put_customer("c1");
  EXPECT_EQ(sql("SELECT active::text FROM herald.contacts WHERE address = '" + std::string(kNewPhone) + "'"), "true");

  // Its code text had not gone out yet: removing the contact cancels it.
  r = call("DELETE", "/v1/customers/c1/contacts/sms/%2B12175550199", customer_token("c1"));
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(sql("SELECT status || ' ' || suppression_reason FROM herald.messages WHERE type = 'contact.verification'"),
            "suppressed cancelled");
  EXPECT_EQ(sql("SELECT count(*) FROM herald.message_queue"), "0");
  EXPECT_EQ(sql("SELECT active::text FROM herald.contacts WHERE address = '" + std::string(kNewPhone) + "'"), "false");
  const auto prefs = call("GET", "/v1/customers/c1/preferences", customer_token("c1")).body;
  EXPECT_EQ(prefs.find(kNewPhone), std::string::npos) << prefs;
  const auto history = call("GET", "/v1/customers/c1/consent", customer_token("c1")).body;
  EXPECT_NE(history.find(kNewPhone), std::string::npos) << history;
  EXPECT_EQ(call("DELETE", "/v1/customers/c1/contacts/sms/%2B12175550199", customer_token("c1")).status, 404);
}

TEST_F(HttpContacts, ConsentHistoryIsAppendOnlyNewestFirstAndPaginated) {
  put_customer("c1");  // three CIS opt-ins (sms, email, voice)
  ASSERT_EQ(add_phone().status, 202);
  ASSERT_EQ(verify("c1", sent_code()).status, 200);
  auto r = call("GET", "/v1/customers/c1/consent", customer_token("c1"));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto all = r.json();
  ASSERT_EQ(all["items"].size(), 4u) << r.body;
  EXPECT_TRUE(all["next_cursor"].is_null());
  const auto& newest = all["items"][0];
  EXPECT_EQ(newest["address"], kNewPhone);
  EXPECT_EQ(newest["consent"], "opted_in");
  EXPECT_EQ(newest["source"], "web");
  EXPECT_TRUE(newest["topic"].is_null());
  EXPECT_TRUE(parse_time(newest["at"].get<std::string>()));
  EXPECT_EQ(all["items"][3]["source"], "cis");

  std::vector<Json> paged;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto p = call("GET", "/v1/customers/c1/consent?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor), cis_key_).json();
    for (const auto& item : p["items"]) paged.push_back(item);
    if (p["next_cursor"].is_null()) break;
    cursor = p["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(Json(paged), all["items"]);
  EXPECT_EQ(call("GET", "/v1/customers/c1/consent?limit=0", cis_key_).json()["error"]["field"], "limit");
  EXPECT_EQ(call("GET", "/v1/customers/c1/consent?cursor=zzz", cis_key_).status, 400);
  EXPECT_EQ(call("GET", "/v1/customers/nobody/consent", cis_key_).status, 404);
}

TEST_F(HttpContacts, AnEmailContactGetsALinkToThePreferenceCenterWithTheCode) {
  put_customer("c1");
  auto r = add("c1", Json{{"channel", "email"}, {"address", "Ada.New@Example.com"}});
  ASSERT_EQ(r.status, 202) << r.body;
  const auto text = sql("SELECT body FROM herald.messages WHERE type = 'contact.verification'");
  const auto html = sql("SELECT html FROM herald.messages WHERE type = 'contact.verification'");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(code=(\d{6}))"))) << text;
  const std::string code = m[1];
  EXPECT_NE(text.find(std::string(kPublicBase) + "/portal/#token="), std::string::npos) << text;
  EXPECT_NE(text.find("address=ada.new%40example.com"), std::string::npos) << text;
  EXPECT_NE(html.find("/portal/#token="), std::string::npos);
  EXPECT_NE(sql("SELECT subject FROM herald.messages WHERE type = 'contact.verification'"), "");
  EXPECT_EQ(verify("c1", code, "email", "ada.new@example.com").status, 200);
}

TEST_F(HttpContacts, TheCodeTextIsInTheCustomersLanguage) {
  auto body = customer_body("c1");
  body["language"] = "es";
  ASSERT_EQ(call("PUT", "/v1/customers/c1", cis_key_, body).status, 200);
  ASSERT_EQ(add_phone().status, 202);
  const auto text = sql("SELECT body FROM herald.messages WHERE type = 'contact.verification'");
  EXPECT_NE(text.find("Su código de verificación"), std::string::npos) << text;
  EXPECT_EQ(sql("SELECT language || ' ' || encoding FROM herald.messages WHERE type = 'contact.verification'"), "es UCS-2");
}

TEST_F(HttpContacts, ReplyingYesConfirmsTheNewestPendingNumber) {
  put_customer("c1");
  ASSERT_EQ(add_phone().status, 202);
  EXPECT_FALSE(store::confirm_contact_by_reply(db_->db(), "+12175550111", "in-0", clock_.now()));
  const auto confirmed = store::confirm_contact_by_reply(db_->db(), kNewPhone, "in-1", clock_.now());
  ASSERT_TRUE(confirmed);
  EXPECT_EQ(confirmed->customer_id, "c1");
  EXPECT_TRUE(confirmed->contact.verified);
  EXPECT_EQ(confirmed->contact.address, kNewPhone);
  EXPECT_EQ(sql("SELECT source || ' ' || state || ' ' || evidence FROM herald.consent_events"
                " WHERE address = '" + std::string(kNewPhone) + "' ORDER BY id DESC LIMIT 1")
                .rfind("sms opted_in inbound:in-1 verification:", 0),
            0u);
  // Nothing waits any more: a second YES is not a confirmation.
  EXPECT_FALSE(store::confirm_contact_by_reply(db_->db(), kNewPhone, "in-2", clock_.now()));
  // Nor does an expired code wait.
  ASSERT_EQ(add_phone("c1", "+12175550166").status, 202);
  EXPECT_FALSE(store::confirm_contact_by_reply(db_->db(), "+12175550166", "in-3", clock_.now() + 16min));
}

// End to end through intake: an event for the customer produces nothing for the pending
// address; once verified, the next one does.
TEST_F(HttpContacts, AnUnverifiedWebContactReceivesNothingUntilConfirmed) {
  auto body = customer_body("c1");
  body["contacts"] = Json::array({{{"channel", "email"}, {"address", "c1@example.com"}}});
  ASSERT_EQ(call("PUT", "/v1/customers/c1", cis_key_, body).status, 200);
  ASSERT_EQ(add_phone().status, 202);

  engine::EngineConfig config;
  config.instance_id = "contacts-test";
  gateways::GatewayConfig log{"log", "log", Channel::sms, 1e6, 1e6, {}};
  for (auto channel : kAllChannels) {
    log.channel = channel;
    auto g = gateways::make_gateway(log);
    ASSERT_TRUE(g.ok());
    config.routes[channel].push_back({std::shared_ptr<gateways::Gateway>(std::move(*g)), 1e6, 1e6});
  }
  engine::Engine engine(db_->db(), config, rules_, templates_, clock_);

  auto post_bill = [&](const std::string& id) {
    auto r = call("POST", "/v1/events", cis_key_,
                  Json{{"event_id", id}, {"type", "bill.ready"}, {"account_id", "A-c1"},
                       {"occurred_at", format_time(clock_.now())},
                       {"data", {{"amount_due", "82.17"}, {"due_date", "2099-12-10"}}}});
    ASSERT_EQ(r.status, 202) << r.body;
    ASSERT_EQ(engine.intake_once(), 1u);
  };
  post_bill("bill-1");
  EXPECT_EQ(sql("SELECT count(*) FROM herald.messages WHERE address = '" + std::string(kNewPhone) +
                "' AND type <> 'contact.verification'"),
            "0");
  EXPECT_EQ(sql("SELECT status || ' ' || suppression_reason FROM herald.messages WHERE event_id = 'bill-1' AND channel = 'sms'"),
            "suppressed no_contact");
  // The code itself goes out through the ordinary queue.
  EXPECT_EQ(engine.dispatch_once(), 2u);  // the code text and the bill's email
  EXPECT_EQ(sql("SELECT status FROM herald.messages WHERE type = 'contact.verification'"), "sent");

  ASSERT_EQ(verify("c1", sent_code()).status, 200);
  post_bill("bill-2");
  EXPECT_EQ(sql("SELECT status || ' ' || address FROM herald.messages WHERE event_id = 'bill-2' AND channel = 'sms'"),
            "queued " + std::string(kNewPhone));
}

}  // namespace
}  // namespace herald::test

namespace herald::test {
namespace {

TEST_F(HttpContacts, TheMessageLogHidesTheCodeAndTheSignInLink) {
  put_customer("c1");
  ASSERT_EQ(add_phone().status, 202);
  const auto code = sent_code();
  ASSERT_EQ(add("c1", Json{{"channel", "email"}, {"address", "new@example.com"}}).status, 202);
  const auto token_in_link = sql("SELECT substring(body from 'token=([^&]+)') FROM herald.messages"
                                 " WHERE type = 'contact.verification' AND channel = 'email'");
  ASSERT_FALSE(token_in_link.empty());

  auto page = call("GET", "/v1/messages?type=contact.verification&reveal=1", admin_key_);
  ASSERT_EQ(page.status, 200) << page.body;
  ASSERT_EQ(page.json()["items"].size(), 2u);
  EXPECT_EQ(page.body.find(code), std::string::npos) << page.body;
  for (const auto& item : page.json()["items"]) {
    auto detail = call("GET", "/v1/messages/" + std::to_string(item["id"].get<std::int64_t>()) + "?reveal=1", admin_key_);
    ASSERT_EQ(detail.status, 200);
    EXPECT_EQ(detail.body.find(code), std::string::npos) << detail.body;
    EXPECT_EQ(detail.body.find(token_in_link), std::string::npos) << detail.body;
    EXPECT_NE(detail.json()["body"].get<std::string>().find("******"), std::string::npos) << detail.body;
  }
}

}  // namespace
}  // namespace herald::test
