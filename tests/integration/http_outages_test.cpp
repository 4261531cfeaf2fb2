// Over real HTTP: outages as the OMS or CIS sends them (PUT), read back with their area and
// history, listed, and found by premise for STATUS.
#include "herald/store/outage_fanout.hpp"
#include "herald/store/outage_reports.hpp"
#include "http_test_client.hpp"

namespace herald::test {
namespace {

class HttpOutages : public HttpServerFixture {
 protected:
  static Json outage_body(Json premises, Json feeders = Json::array()) {
    return Json{{"status", "confirmed"},
                {"kind", "unplanned"},
                {"cause", "storm"},
                {"etr", "2026-11-20T18:00:00Z"},
                {"affected", {{"premise_ids", std::move(premises)}, {"feeders", std::move(feeders)}, {"zips", Json::array()}}},
                {"planned_start", nullptr},
                {"planned_end", nullptr}};
  }
};

TEST_F(HttpOutages, PutCreatesThenChangesAndGetShowsAreaAndHistory) {
  auto put = call("PUT", "/v1/outages/O-1", cis_key_, outage_body({"P-1", "P-2", "P-2"}, {"F-12"}));
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(put.json()["affected"]["premise_count"], 2);
  auto change = Json{{"status", "etr_updated"}, {"etr", "2026-11-20T20:00:00Z"}};
  auto second = call("PUT", "/v1/outages/O-1", cis_key_, change);
  ASSERT_EQ(second.status, 200) << second.body;
  auto get = call("GET", "/v1/outages/O-1", admin_key_);
  ASSERT_EQ(get.status, 200) << get.body;
  const auto o = get.json();
  EXPECT_EQ(o["status"], "etr_updated");
  EXPECT_EQ(o["cause"], "storm");  // absent members keep what is stored
  EXPECT_EQ(o["etr"], "2026-11-20T20:00:00Z");
  EXPECT_EQ(o["affected"]["premise_ids"], (Json{"P-1", "P-2"}));
  EXPECT_EQ(o["affected"]["feeders"], (Json{"F-12"}));
  ASSERT_EQ(o["history"].size(), 2u);
  EXPECT_EQ(o["history"][1]["changes"]["etr"]["from"], "2026-11-20T18:00:00Z");
  EXPECT_EQ(o["history"][1]["changes"]["etr"]["to"], "2026-11-20T20:00:00Z");
  EXPECT_FALSE(o["history"][1]["changes"].contains("cause"));
  EXPECT_TRUE(o["counts"].contains("affected"));
  EXPECT_TRUE(o["counts"].contains("notified"));
  // The same state again records nothing.
  ASSERT_EQ(call("PUT", "/v1/outages/O-1", cis_key_, change).status, 200);
  EXPECT_EQ(call("GET", "/v1/outages/O-1", admin_key_).json()["history"].size(), 2u);
}

// An OMS that speaks only the events API posts outage.updated: the PUT's checks answer at once
// (422 naming data.<field>, nothing stored), and the outage loop applies what was accepted.
TEST_F(HttpOutages, OutageUpdatedPostedAsAnEventIsCheckedLikeAPutAndApplied) {
  Json data = outage_body({"P-9"});
  data["outage_id"] = "O-ev";
  const Json event = {{"event_id", "oms-ev-1"}, {"type", "outage.updated"}, {"occurred_at", "2026-11-20T10:00:00Z"},
                      {"data", data}};
  auto posted = call("POST", "/v1/events", cis_key_, event);
  ASSERT_EQ(posted.status, 202) << posted.body;
  EXPECT_EQ(call("GET", "/v1/outages/O-ev", admin_key_).status, 404);  // not applied yet
  EXPECT_EQ(store::apply_outage_events(db_->db(), 10, clock_.now()), 1u);
  auto get = call("GET", "/v1/outages/O-ev", admin_key_);
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(get.json()["status"], "confirmed");
  EXPECT_EQ(get.json()["affected"]["premise_ids"], (Json{"P-9"}));
  EXPECT_EQ(call("GET", "/v1/events/oms-ev-1", admin_key_).json()["status"], "processed");

  Json bad = event;
  bad["event_id"] = "oms-ev-2";
  bad["data"]["status"] = "smoldering";
  auto refused = call("POST", "/v1/events", cis_key_, bad);
  ASSERT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.json()["error"]["field"], "data.status");
  bad["data"]["status"] = "confirmed";
  bad["data"].erase("outage_id");
  refused = call("POST", "/v1/events", cis_key_, bad);
  ASSERT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.json()["error"]["field"], "data.outage_id");
  bad["data"]["outage_id"] = "O-ev";
  bad["account_id"] = "A-1";
  refused = call("POST", "/v1/events", cis_key_, bad);
  ASSERT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.json()["error"]["field"], "account_id");
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.events WHERE event_id = 'oms-ev-2'"), "0");

  auto batch = call("POST", "/v1/events/batch", cis_key_,
                    Json{{"events", Json::array({Json{{"event_id", "oms-ev-3"}, {"type", "outage.updated"},
                                                      {"data", {{"outage_id", "O-ev"}, {"status", "restored"}}}}})}});
  ASSERT_EQ(batch.status / 100, 2) << batch.body;
  EXPECT_EQ(batch.json()["results"][0]["status"], "accepted") << batch.body;
}

TEST_F(HttpOutages, InvalidBodiesNameTheFieldAndStoreNothing) {
  auto body = outage_body({"P-1"});
  body["status"] = "fixed";
  auto r = call("PUT", "/v1/outages/O-2", cis_key_, body);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "status");
  body = outage_body({"P-1", 7});
  r = call("PUT", "/v1/outages/O-2", cis_key_, body);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "affected.premise_ids[1]");
  body = outage_body({"P-1"});
  body["etr"] = "tomorrow";
  r = call("PUT", "/v1/outages/O-2", cis_key_, body);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "etr");
  r = call("PUT", "/v1/outages/O-2", cis_key_, Json{{"status", "confirmed"}});
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "affected");
  body = outage_body({"P-1"});
  body["kind"] = "planned";
  r = call("PUT", "/v1/outages/O-2", cis_key_, body);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "planned_start");
  EXPECT_EQ(call("GET", "/v1/outages/O-2", admin_key_).status, 404);
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.outage_premises"), "0");
}

TEST_F(HttpOutages, ARestoredOutageCannotReopen) {
  ASSERT_EQ(call("PUT", "/v1/outages/O-3", cis_key_, outage_body({"P-1"})).status, 201);
  ASSERT_EQ(call("PUT", "/v1/outages/O-3", cis_key_, Json{{"status", "restored"}}).status, 200);
  auto r = call("PUT", "/v1/outages/O-3", cis_key_, Json{{"status", "confirmed"}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(call("GET", "/v1/outages/O-3", cis_key_).json()["status"], "restored");
}

TEST_F(HttpOutages, AHundredThousandPremisesInOnePut) {
  Json premises = Json::array();
  for (int i = 0; i < 100000; ++i) premises.push_back("P-" + std::to_string(i));
  auto r = call("PUT", "/v1/outages/O-big", cis_key_, outage_body(std::move(premises)));
  ASSERT_EQ(r.status, 201) << r.body.substr(0, 300);
  EXPECT_EQ(r.json()["affected"]["premise_count"], 100000);
  EXPECT_FALSE(r.json()["affected"].contains("premise_ids"));
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.outage_premises WHERE outage_id = 'O-big'"), "100000");
}

TEST_F(HttpOutages, ListsActiveOrAllInKeysetPages) {
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(call("PUT", "/v1/outages/L-" + std::to_string(i), cis_key_, outage_body({"P-1"})).status, 201);
  ASSERT_EQ(call("PUT", "/v1/outages/L-0", cis_key_, Json{{"status", "restored"}}).status, 200);
  auto active = call("GET", "/v1/outages?limit=2", cis_key_);
  ASSERT_EQ(active.status, 200) << active.body;
  std::vector<std::string> seen;
  auto page = active.json();
  for (;;) {
    for (const auto& o : page["items"]) seen.push_back(o["outage_id"]);
    if (page["next_cursor"].is_null()) break;
    page = call("GET", "/v1/outages?limit=2&cursor=" + page["next_cursor"].get<std::string>(), cis_key_).json();
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"L-4", "L-3", "L-2", "L-1"}));
  EXPECT_EQ(call("GET", "/v1/outages?status=all", cis_key_).json()["items"].size(), 5u);
  EXPECT_EQ(call("GET", "/v1/outages?status=closed", cis_key_).json()["error"]["field"], "status");
  EXPECT_EQ(call("GET", "/v1/outages?status=all&from=2999-01-01T00:00:00Z", cis_key_).json()["items"].size(), 0u);
}

TEST_F(HttpOutages, CustomerTokensCannotReachOutages) {
  put_customer("c1");
  EXPECT_EQ(call("GET", "/v1/outages", customer_token("c1")).status, 403);
  EXPECT_EQ(call("PUT", "/v1/outages/O-9", customer_token("c1"), outage_body({"P-1"})).status, 403);
}

TEST_F(HttpOutages, TheOutageAtAPremiseIsFoundByIdOrFeederAndForADayAfterItsRestoration) {
  put_customer("c1");  // premise P-c1 on feeder F-12
  EXPECT_FALSE(store::outage_at_premise(db_->db(), "P-c1"));
  ASSERT_EQ(call("PUT", "/v1/outages/O-F", cis_key_, outage_body(Json::array(), {"F-12"})).status, 201);
  auto known = store::outage_at_premise(db_->db(), "P-c1");
  ASSERT_TRUE(known);
  EXPECT_EQ(known->outage_id, "O-F");
  EXPECT_EQ(known->status, "confirmed");
  ASSERT_TRUE(known->etr);
  ASSERT_EQ(call("PUT", "/v1/outages/O-F", cis_key_, Json{{"status", "restored"}}).status, 200);
  known = store::outage_at_premise(db_->db(), "P-c1");
  ASSERT_TRUE(known);
  EXPECT_EQ(known->status, "restored");
  EXPECT_FALSE(store::outage_at_premise(db_->db(), "P-other"));
  // A report just after restoration still belongs to the outage it answers.
  store::NewOutageReport report;
  report.account_id = "A-c1";
  report.premise_id = "P-c1";
  report.source = "api";
  report.created_at = clock_.now();
  const auto filed = store::file_outage_report(db_->db(), report);
  EXPECT_EQ(db_->query_value("SELECT outage_id FROM herald.outage_reports WHERE report_id = '" + filed.report_id + "'"),
            "O-F");
}

}  // namespace
}  // namespace herald::test
