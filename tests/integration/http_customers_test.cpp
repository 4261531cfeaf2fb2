// Over real HTTP: customers as the CIS sends them, and preferences as customers change them.
#include "http_test_client.hpp"

namespace herald::test {
namespace {

class HttpCustomers : public HttpServerFixture {};

TEST_F(HttpCustomers, PutStoresAndGetReturnsTheCustomerWithE164Contacts) {
  auto body = customer_body("c1", "(217) 555-0101");
  auto put = call("PUT", "/v1/customers/c1", cis_key_, body);
  ASSERT_EQ(put.status, 200) << put.body;
  auto get = call("GET", "/v1/customers/c1", admin_key_);
  ASSERT_EQ(get.status, 200);
  auto c = get.json();
  EXPECT_EQ(c["customer_id"], "c1");
  EXPECT_EQ(c["accounts"][0]["account_id"], "A-c1");
  EXPECT_NE(get.body.find("+12175550101"), std::string::npos) << get.body;
  EXPECT_EQ(put.json(), c);
}

TEST_F(HttpCustomers, InvalidCustomerIsUnprocessableNamingTheField) {
  auto body = customer_body("c1");
  body["accounts"][0]["timezone"] = "Mars/Olympus";
  auto r = call("PUT", "/v1/customers/c1", cis_key_, body);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "accounts[0].timezone");
}

TEST_F(HttpCustomers, ControlCharacterInANameIsUnprocessableNotCut) {
  auto body = customer_body("c1");
  body["name"] = std::string("a\0b", 3);
  auto r = call("PUT", "/v1/customers/c1", cis_key_, body);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "name");
  EXPECT_EQ(r.json()["error"]["code"], "control_character");
  body = customer_body("c1");
  body["accounts"][0]["service_address"]["line1"] = "12 Main St\r\nBcc: x";
  r = call("PUT", "/v1/customers/c1", cis_key_, body);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "accounts[0].service_address.line1");
  EXPECT_EQ(call("GET", "/v1/customers/c1", admin_key_).status, 404);  // nothing stored
  ASSERT_EQ(call("PUT", "/v1/customers/c1", cis_key_, customer_body("c1")).status, 200);
  auto prefs = call("PUT", "/v1/customers/c1/preferences", cis_key_, Json{{"language", std::string("e\0s", 3)}});
  ASSERT_EQ(prefs.status, 422) << prefs.body;
  EXPECT_EQ(prefs.json()["error"]["field"], "language");
}

// http.server_timing: a profile of the request (bench/storm/api_profile.py reads it); off, no header.
TEST_F(HttpCustomers, ServerTimingSaysWhereTheRequestsTimeWentOnlyWhenAskedFor) {
  put_customer("c1");
  EXPECT_EQ(call("GET", "/v1/customers/c1/preferences", cis_key_).header("server-timing"), "");

  config_.server_timing = true;
  restart();
  auto r = call("GET", "/v1/customers/c1/preferences", cis_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto timing = r.header("server-timing");
  for (const char* part : {"queue;dur=", "pool;dur=", "db;dur=", "handler;dur=", " connection(s)"})
    EXPECT_NE(timing.find(part), std::string::npos) << part << " in " << timing;
  // The backend named is one of the pool's: a connection of this database other than the test's own.
  const auto at = timing.find("backend ");
  ASSERT_NE(at, std::string::npos) << timing;
  const auto pid = std::stoi(timing.substr(at + 8));
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                             " AND pid <> pg_backend_pid() AND pid = " + std::to_string(pid)),
            "1")
      << timing;
}

TEST_F(HttpCustomers, UnknownCustomerIsNotFound) {
  EXPECT_EQ(call("GET", "/v1/customers/nobody", cis_key_).status, 404);
  EXPECT_EQ(call("GET", "/v1/customers/nobody/preferences", cis_key_).status, 404);
}

TEST_F(HttpCustomers, NewCustomerGetsDefaultPreferencesAndContactsWithConsent) {
  put_customer("c1");
  auto r = call("GET", "/v1/customers/c1/preferences", customer_token("c1"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto p = r.json();
  EXPECT_EQ(p["topics"]["billing"]["channels"], (Json{"sms", "email"}));
  ASSERT_EQ(p["contacts"].size(), 3u);
  for (const auto& c : p["contacts"]) {
    EXPECT_TRUE(c.contains("channel"));
    EXPECT_TRUE(c.contains("address"));
    EXPECT_EQ(c["verified"], true);
    EXPECT_EQ(c["consent"], "opted_in");
  }
}

TEST_F(HttpCustomers, PreferencesRoundTripAndRecordWhoChangedThem) {
  put_customer("c1");
  Json prefs = {{"topics",
                 {{"billing", {{"channels", {"email"}}}},
                  {"outage", {{"channels", {"sms", "voice"}}}},
                  {"other", {{"channels", Json::array()}}}}},
                {"quiet_hours", {{"enabled", true}, {"start", "22:30"}, {"end", "07:00"}}},
                {"language", "es"}};
  auto put = call("PUT", "/v1/customers/c1/preferences", customer_token("c1"), prefs);
  ASSERT_EQ(put.status, 200) << put.body;
  auto get = call("GET", "/v1/customers/c1/preferences", cis_key_);
  ASSERT_EQ(get.status, 200);
  auto got = get.json();
  EXPECT_EQ(got["topics"]["billing"]["channels"], (Json{"email"}));
  EXPECT_EQ(got["topics"]["outage"]["channels"], (Json{"sms", "voice"}));
  EXPECT_EQ(got["quiet_hours"]["start"], "22:30");
  EXPECT_EQ(got["language"], "es");
  EXPECT_EQ(db_->query_value("SELECT actor FROM herald.preference_changes ORDER BY id DESC LIMIT 1"), "customer:c1");
}

TEST_F(HttpCustomers, PreferencesWithBadTimeUnknownTopicOrNoContactAreUnprocessable) {
  put_customer("c1");
  auto token = customer_token("c1");
  auto base = Json{{"topics", {{"billing", {{"channels", {"email"}}}}}},
                   {"quiet_hours", {{"enabled", true}, {"start", "21:00"}, {"end", "08:00"}}},
                   {"language", "en"}};
  auto bad_time = base;
  bad_time["quiet_hours"]["start"] = "25:99";
  EXPECT_EQ(call("PUT", "/v1/customers/c1/preferences", token, bad_time).status, 422);
  auto bad_topic = base;
  bad_topic["topics"]["marketing"] = {{"channels", {"email"}}};
  EXPECT_EQ(call("PUT", "/v1/customers/c1/preferences", token, bad_topic).status, 422);

  // A customer without a voice contact cannot choose voice.
  auto body = customer_body("c2");
  body["contacts"] = Json::array({Json{{"channel", "email"}, {"address", "c2@example.com"}}});
  ASSERT_EQ(call("PUT", "/v1/customers/c2", cis_key_, body).status, 200);
  auto no_contact = base;
  no_contact["topics"]["outage"] = {{"channels", {"voice"}}};
  auto r = call("PUT", "/v1/customers/c2/preferences", customer_token("c2"), no_contact);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["code"], "no_contact_for_channel");
}

TEST_F(HttpCustomers, StaffChangesAreRecordedWithTheKeyRole) {
  put_customer("c1");
  Json prefs = {{"topics", {{"billing", {{"channels", {"sms"}}}}}},
                {"quiet_hours", {{"enabled", false}, {"start", "21:00"}, {"end", "08:00"}}},
                {"language", "en"}};
  ASSERT_EQ(call("PUT", "/v1/customers/c1/preferences", cis_key_, prefs).status, 200);
  EXPECT_EQ(db_->query_value("SELECT actor FROM herald.preference_changes ORDER BY id DESC LIMIT 1"), "key:cis");
}

}  // namespace
}  // namespace herald::test
