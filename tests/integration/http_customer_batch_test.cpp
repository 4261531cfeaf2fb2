// Over real HTTP: POST /v1/customers/batch with created, updated, unchanged and rejected customers.
#include "http_test_client.hpp"

namespace herald::test {
namespace {

class HttpCustomerBatch : public HttpServerFixture {
 protected:
  static Json item(const std::string& id, const std::string& phone = "+12175550101") {
    Json j = customer_body(id, phone);
    j["customer_id"] = id;
    return j;
  }
  std::string count(const std::string& sql) { return db_->query_value(sql); }
};

TEST_F(HttpCustomerBatch, MixedBatchStoresEachGoodCustomerAndRejectsEachBadOneAlone) {
  put_customer("same", "+12175550111");
  put_customer("renamed", "+12175550112");
  put_customer("owner", "+12175550113");

  Json renamed = item("renamed", "+12175550112");
  renamed["name"] = "New Name";
  renamed["contacts"].erase(1);  // the email is dropped: kept inactive, with its history
  Json bad_zone = item("bad-zone", "+12175550114");
  bad_zone["accounts"][0]["timezone"] = "Mars/Olympus";
  Json thief = item("thief", "+12175550115");
  thief["accounts"][0]["account_id"] = "A-owner";
  Json fresh_again = item("fresh", "+12175550116");
  fresh_again["name"] = "Fresh Twice";
  Json no_id = customer_body("x");
  const Json batch = {{"customers", Json::array({item("same", "+12175550111"), renamed, item("fresh", "+12175550116"),
                                                 bad_zone, thief, no_id, fresh_again, Json("not an object")})}};

  auto r = call("POST", "/v1/customers/batch", cis_key_, batch);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto results = r.json()["results"];
  ASSERT_EQ(results.size(), 8u) << r.body;
  auto status = [&](int i) { return results[i]["status"].get<std::string>(); };
  EXPECT_EQ(results[0]["customer_id"], "same");
  EXPECT_EQ(status(0), "unchanged");
  EXPECT_EQ(status(1), "updated");
  EXPECT_EQ(status(2), "created");
  EXPECT_EQ(status(3), "rejected");
  EXPECT_EQ(results[3]["error"]["field"], "accounts[0].timezone");
  EXPECT_EQ(status(4), "rejected");
  EXPECT_EQ(results[4]["error"]["code"], "account_owned_elsewhere");
  EXPECT_EQ(status(5), "rejected");
  EXPECT_TRUE(results[5]["customer_id"].is_null());
  EXPECT_EQ(results[5]["error"]["field"], "customer_id");
  EXPECT_EQ(status(6), "updated");  // the same customer again: merged after its first entry
  EXPECT_EQ(status(7), "rejected");
  for (int i : {0, 1, 2, 6}) EXPECT_FALSE(results[i].contains("error")) << results[i];

  EXPECT_EQ(call("GET", "/v1/customers/renamed", cis_key_).json()["name"], "New Name");
  EXPECT_EQ(call("GET", "/v1/customers/renamed", cis_key_).json()["contacts"].size(), 2u);
  EXPECT_EQ(count("SELECT count(*) FROM herald.contacts WHERE customer_id = 'renamed' AND NOT active"), "1");
  EXPECT_EQ(call("GET", "/v1/customers/fresh", cis_key_).json()["name"], "Fresh Twice");
  // A rejected customer leaves no rows; the account it claimed stays with its owner.
  for (const char* id : {"bad-zone", "thief"}) {
    EXPECT_EQ(call("GET", std::string("/v1/customers/") + id, cis_key_).status, 404);
    EXPECT_EQ(count(std::string("SELECT count(*) FROM herald.contacts WHERE customer_id = '") + id + "'"), "0");
  }
  EXPECT_EQ(count("SELECT count(*) FROM herald.consent_events WHERE address IN ('+12175550114', '+12175550115')"), "0");
  EXPECT_EQ(count("SELECT customer_id FROM herald.accounts WHERE account_id = 'A-owner'"), "owner");

  // The new customer is what a PUT makes: verified CIS contacts opted in, default preferences.
  auto prefs = call("GET", "/v1/customers/fresh/preferences", cis_key_);
  ASSERT_EQ(prefs.status, 200);
  EXPECT_EQ(prefs.json()["topics"]["billing"]["channels"], (Json{"sms", "email"}));
  for (const auto& c : prefs.json()["contacts"]) {
    EXPECT_EQ(c["verified"], true);
    EXPECT_EQ(c["consent"], "opted_in");
  }
  // Recorded as a PUT by the same key records it.
  EXPECT_EQ(count("SELECT count(*) FROM herald.consent_events WHERE source = 'cis' AND evidence ="
                  " (SELECT replace(evidence, 'customer same ', 'customer fresh ') FROM herald.consent_events"
                  "  WHERE channel = 'sms' AND address = '+12175550111')"),
            "3");

  // The whole batch again: nothing left to change.
  r = call("POST", "/v1/customers/batch", cis_key_, batch);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["results"][1]["status"], "unchanged");
  EXPECT_EQ(r.json()["results"][2]["status"], "updated");  // its name goes back, then on again
  EXPECT_EQ(r.json()["results"][6]["status"], "updated");
}

TEST_F(HttpCustomerBatch, ContactWithAnOptOutInItsHistoryStaysOptedOut) {
  db_->exec("INSERT INTO herald.consent_events (channel, address, state, source, evidence)"
            " VALUES ('sms', '+12175550121', 'opted_out', 'sms', 'STOP')");
  auto r = call("POST", "/v1/customers/batch", cis_key_, Json{{"customers", Json::array({item("c1", "+12175550121")})}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["results"][0]["status"], "created");
  auto prefs = call("GET", "/v1/customers/c1/preferences", cis_key_).json();
  for (const auto& c : prefs["contacts"])
    EXPECT_EQ(c["consent"], c["channel"] == "sms" ? "opted_out" : "opted_in") << c;
  EXPECT_EQ(count("SELECT count(*) FROM herald.consent_events WHERE address = '+12175550121'"), "2");  // + voice
}

TEST_F(HttpCustomerBatch, MoreThanAThousandIsTooLargeAndNotAListIsUnprocessable) {
  Json many = Json::array();
  for (int i = 0; i < 1001; ++i) many.push_back(Json{{"customer_id", "c" + std::to_string(i)}});
  auto r = call("POST", "/v1/customers/batch", cis_key_, Json{{"customers", many}});
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "customers");
  r = call("POST", "/v1/customers/batch", cis_key_, Json{{"customers", "c1"}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(count("SELECT count(*) FROM herald.customers"), "0");
}

TEST_F(HttpCustomerBatch, NeedsTheCisOrAdminRole) {
  put_customer("c1");
  const Json batch = {{"customers", Json::array({item("c1")})}};
  EXPECT_EQ(call("POST", "/v1/customers/batch", customer_token("c1"), batch).status, 403);
  EXPECT_EQ(call("POST", "/v1/customers/batch", "", batch).status, 401);
  EXPECT_EQ(call("POST", "/v1/customers/batch", admin_key_, batch).status, 200);
}

}  // namespace
}  // namespace herald::test
