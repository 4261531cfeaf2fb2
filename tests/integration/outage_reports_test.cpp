// Outage reports over real HTTP and Postgres (POST/GET /v1/outage-reports), and their forwarding
// to the fake OMS (tests/fakes/fake_oms.py): signed, retried under one idempotency key, leased so
// a dead forwarder's reports are sent again, abandoned only past the configured age.
#include "fake_cis_process.hpp"
#include "herald/engine/report_forwarder.hpp"
#include "herald/store/outage_reports.hpp"
#include "http_test_client.hpp"

namespace herald::test {
namespace {

using namespace std::chrono_literals;

class OutageReports : public HttpServerFixture {
 protected:
  HttpResponse report(const Json& body, const std::string& key = {}) {
    return call("POST", "/v1/outage-reports", key.empty() ? cis_key_ : key, body);
  }
  std::string file(const std::string& account_id, const std::string& note = "lights out") {
    auto r = report({{"account_id", account_id}, {"source", "api"}, {"note", note}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("report_id", "");
  }
  Json listed(const std::string& query) {
    auto r = call("GET", "/v1/outage-reports" + query, admin_key_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  Json forwarding_of(const std::string& report_id) {
    const auto page = listed("?limit=500");
    for (const auto& item : page["items"])
      if (item["report_id"] == report_id) return item["forwarding"];
    ADD_FAILURE() << "no report " << report_id;
    return Json();
  }

  engine::OmsConfig oms_config(const FakeOmsProcess& oms, std::string secret = FakeOmsProcess::kSecret) {
    engine::OmsConfig c;
    c.reports_url = oms.reports_url();
    c.secret = std::move(secret);
    c.timeout = 3000ms;
    c.backoff_base = 1000ms;
    c.backoff_cap = 60000ms;
    c.max_age = 3600s;
    return c;
  }
};

TEST_F(OutageReports, ApiReportWithoutAnOutageIsFiledWithNoOutageAndListedWithItsForwardPending) {
  put_customer("c1");
  auto r = report({{"account_id", "A-c1"}, {"source", "api"}, {"note", "tree on the line"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const auto body = r.json();
  EXPECT_EQ(body["report_id"].get<std::string>().rfind("OR-", 0), 0u);
  EXPECT_TRUE(body["outage_id"].is_null());

  const auto page = listed("?premise_id=P-c1");
  ASSERT_EQ(page["items"].size(), 1u);
  const auto& item = page["items"][0];
  EXPECT_EQ(item["report_id"], body["report_id"]);
  EXPECT_EQ(item["account_id"], "A-c1");
  EXPECT_EQ(item["customer_id"], "c1");
  EXPECT_EQ(item["source"], "api");
  EXPECT_EQ(item["note"], "tree on the line");
  EXPECT_TRUE(item["outage_id"].is_null());
  EXPECT_EQ(item["forwarding"]["state"], "pending");
  EXPECT_EQ(item["forwarding"]["attempts"], 0);
  EXPECT_TRUE(listed("?premise_id=P-other")["items"].empty());
  EXPECT_TRUE(listed("?outage_id=O-1")["items"].empty());
}

TEST_F(OutageReports, ReportAtAPremiseUnderAnOutageIsLinkedCountedListedAndForwardedWithIt) {
  FakeOmsProcess oms;
  put_customer("c1");
  put_customer("c2");
  const Json outage = {{"status", "confirmed"},
                       {"kind", "unplanned"},
                       {"cause", "storm"},
                       {"affected", {{"premise_ids", {"P-c1"}}, {"feeders", Json::array()}, {"zips", Json::array()}}}};
  const auto put = call("PUT", "/v1/outages/O-77", cis_key_, outage);
  ASSERT_TRUE(put.status == 200 || put.status == 201) << put.body;

  auto inside = report({{"account_id", "A-c1"}, {"source", "api"}, {"note", "still dark"}});
  ASSERT_EQ(inside.status, 201) << inside.body;
  EXPECT_EQ(inside.json()["outage_id"], "O-77");
  auto outside = report({{"account_id", "A-c2"}});
  ASSERT_EQ(outside.status, 201) << outside.body;
  EXPECT_TRUE(outside.json()["outage_id"].is_null());

  const auto linked = listed("?outage_id=O-77");
  ASSERT_EQ(linked["items"].size(), 1u);
  EXPECT_EQ(linked["items"][0]["report_id"], inside.json()["report_id"]);
  const auto detail = call("GET", "/v1/outages/O-77", admin_key_);
  ASSERT_EQ(detail.status, 200) << detail.body;
  EXPECT_EQ(detail.json()["counts"]["reports"], 1);

  engine::ReportForwarder forwarder(db_->db(), oms_config(oms), clock_, "forwarder-1");
  EXPECT_EQ(forwarder.forward_once(), 2u);
  std::map<std::string, Json> received;
  const Json state = oms.state();
  for (const auto& r : state["reports"]) received[r["report_id"].get<std::string>()] = r["outage_id"];
  EXPECT_EQ(received[inside.json()["report_id"].get<std::string>()], "O-77");
  EXPECT_TRUE(received[outside.json()["report_id"].get<std::string>()].is_null());
}

TEST_F(OutageReports, BadInputIsA422NamingTheFieldAndNothingIsStored) {
  put_customer("c1");
  struct Case {
    Json body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {Json{{"note", "x"}}, "account_id"},
      {Json{{"account_id", 12}}, "account_id"},
      {Json{{"account_id", ""}}, "account_id"},
      {Json{{"account_id", "A-nobody"}}, "account_id"},
      {Json{{"account_id", "A-c1"}, {"source", "sms"}}, "source"},
      {Json{{"account_id", "A-c1"}, {"note", 5}}, "note"},
      {Json{{"account_id", "A-c1"}, {"note", std::string(2001, 'x')}}, "note"},
      {Json{{"account_id", "A-c1"}, {"note", std::string("bell\x07")}}, "note"},
  };
  for (const auto& c : cases) {
    auto r = report(c.body);
    EXPECT_EQ(r.status, 422) << c.body.dump() << " " << r.body;
    EXPECT_EQ(r.json()["error"].value("field", ""), c.field) << c.body.dump();
  }
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.outage_reports"), "0");
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.outage_report_forwards"), "0");
}

TEST_F(OutageReports, OnlyCisAndAdminKeysMayFileOrList) {
  put_customer("c1");
  EXPECT_EQ(report({{"account_id", "A-c1"}}, customer_token("c1")).status, 403);
  EXPECT_EQ(call("GET", "/v1/outage-reports", customer_token("c1")).status, 403);
  EXPECT_EQ(call("GET", "/v1/outage-reports").status, 401);
  EXPECT_EQ(report({{"account_id", "A-c1"}}, admin_key_).status, 201);
}

TEST_F(OutageReports, ListPagesNewestFirstWithoutRepeatsAndFiltersByTime) {
  put_customer("c1");
  std::vector<std::string> filed;
  for (int i = 0; i < 5; ++i) filed.push_back(file("A-c1", "report " + std::to_string(i)));
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    const auto body = listed("?limit=2" + (cursor.empty() ? std::string() : "&cursor=" + cursor));
    for (const auto& item : body["items"]) seen.push_back(item["report_id"]);
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
  }
  EXPECT_EQ(seen, std::vector<std::string>(filed.rbegin(), filed.rend()));
  const auto later = format_time(clock_.now() + 1h);
  EXPECT_TRUE(listed("?from=" + later)["items"].empty());
  EXPECT_EQ(listed("?to=" + later)["items"].size(), 5u);
  auto bad = call("GET", "/v1/outage-reports?from=yesterday", admin_key_);
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.json()["error"]["field"], "from");
  EXPECT_EQ(call("GET", "/v1/outage-reports?cursor=nonsense", admin_key_).status, 400);
}

TEST_F(OutageReports, ForwardRetriedWhileTheOmsIsDownArrivesOnceUnderOneIdempotencyKey) {
  FakeOmsProcess oms(/*fail_first=*/2);
  put_customer("c1");
  const auto report_id = file("A-c1", "no power since noon");
  engine::ReportForwarder forwarder(db_->db(), oms_config(oms), clock_, "forwarder-1");

  EXPECT_EQ(forwarder.forward_once(), 1u);  // 503
  auto f = forwarding_of(report_id);
  EXPECT_EQ(f["state"], "pending");
  EXPECT_EQ(f["attempts"], 1);
  EXPECT_EQ(f["http_status"], 503);
  EXPECT_EQ(f["last_error"], "http_503");
  ASSERT_TRUE(f["next_attempt_at"].is_string());
  // Not due again before its backoff.
  EXPECT_LE(*parse_time(f["next_attempt_at"].get<std::string>()), clock_.now() + 1s);

  clock_.advance(2s);  // past the first retry's backoff (at most backoff_base)
  EXPECT_EQ(forwarder.forward_once(), 1u);  // 503 again
  clock_.advance(3s);  // past the second's (at most 2 * backoff_base)
  EXPECT_EQ(forwarder.forward_once(), 1u);  // accepted
  EXPECT_EQ(forwarder.forward_once(), 0u);  // nothing left

  f = forwarding_of(report_id);
  EXPECT_EQ(f["state"], "delivered");
  EXPECT_EQ(f["attempts"], 3);
  EXPECT_EQ(f["http_status"], 200);
  EXPECT_TRUE(f["completed_at"].is_string());

  const auto state = oms.state();
  ASSERT_EQ(state["requests"].size(), 3u);
  const auto key = state["requests"][0]["headers"]["idempotency-key"].get<std::string>();
  EXPECT_FALSE(key.empty());
  for (const auto& request : state["requests"]) {
    EXPECT_EQ(request["headers"]["idempotency-key"], key);
    EXPECT_TRUE(request["problem"].is_null()) << request.dump();
  }
  ASSERT_EQ(state["reports"].size(), 1u);
  const auto& received = state["reports"][0];
  EXPECT_EQ(received["report_id"], report_id);
  EXPECT_EQ(received["account_id"], "A-c1");
  EXPECT_EQ(received["premise_id"], "P-c1");
  EXPECT_EQ(received["note"], "no power since noon");
  EXPECT_EQ(received["source"], "api");
  EXPECT_TRUE(received["outage_id"].is_null());
  EXPECT_EQ(state["accepted"][key], 1);
}

TEST_F(OutageReports, ForwardSignedWithTheWrongSecretIsRefusedAndRetriedUntilTheSecretIsRight) {
  FakeOmsProcess oms;
  put_customer("c1");
  const auto report_id = file("A-c1");
  {
    engine::ReportForwarder wrong(db_->db(), oms_config(oms, "not-the-secret"), clock_, "forwarder-1");
    EXPECT_EQ(wrong.forward_once(), 1u);
    clock_.advance(2s);
    EXPECT_EQ(wrong.forward_once(), 1u);
  }
  auto f = forwarding_of(report_id);
  EXPECT_EQ(f["state"], "pending");
  EXPECT_EQ(f["attempts"], 2);
  EXPECT_EQ(f["http_status"], 401);
  EXPECT_EQ(oms.state()["bad_signatures"], 2);
  EXPECT_TRUE(oms.state()["reports"].empty());

  clock_.advance(3s);
  engine::ReportForwarder fixed(db_->db(), oms_config(oms), clock_, "forwarder-2");
  EXPECT_EQ(fixed.forward_once(), 1u);
  EXPECT_EQ(forwarding_of(report_id)["state"], "delivered");
  EXPECT_EQ(oms.state()["reports"].size(), 1u);
}

TEST_F(OutageReports, ForwardsOfADeadForwarderAreSentAgainWhenTheirLeaseLapses) {
  FakeOmsProcess oms;
  put_customer("c1");
  const auto report_id = file("A-c1");
  // A forwarder that leased the report and died before sending or recording it.
  ASSERT_EQ(store::lease_report_forwards(db_->db(), "dead-forwarder", 10, clock_.now(), 40s).size(), 1u);
  engine::ReportForwarder alive(db_->db(), oms_config(oms), clock_, "forwarder-2");
  EXPECT_EQ(alive.forward_once(), 0u);  // still leased
  EXPECT_TRUE(oms.state()["requests"].empty());
  clock_.advance(41s);
  EXPECT_EQ(alive.forward_once(), 1u);
  EXPECT_EQ(forwarding_of(report_id)["state"], "delivered");
  // The dead forwarder's outcome, were it to come back, is not recorded over the delivery.
  store::ForwardOutcome late;
  late.id = std::stoll(report_id.substr(3));
  late.error = "timeout";
  late.retry_at = clock_.now();
  EXPECT_EQ(store::record_report_forwards(db_->db(), "dead-forwarder", {late}, clock_.now()), 0u);
  EXPECT_EQ(forwarding_of(report_id)["state"], "delivered");
  EXPECT_EQ(oms.state()["reports"].size(), 1u);
}

TEST_F(OutageReports, ForwardIsAbandonedOnlyAfterTheMaxAgeAndShownSo) {
  FakeOmsProcess oms;
  oms.set_down(true);
  put_customer("c1");
  const auto report_id = file("A-c1");
  auto config = oms_config(oms);
  config.max_age = 60s;
  engine::ReportForwarder forwarder(db_->db(), config, clock_, "forwarder-1");
  EXPECT_EQ(forwarder.forward_once(), 1u);
  EXPECT_EQ(forwarding_of(report_id)["state"], "pending");
  clock_.advance(61s);
  EXPECT_EQ(forwarder.forward_once(), 1u);
  const auto f = forwarding_of(report_id);
  EXPECT_EQ(f["state"], "abandoned");
  EXPECT_EQ(f["attempts"], 2);
  EXPECT_EQ(f["last_error"], "http_503");
  EXPECT_TRUE(f["completed_at"].is_string());
  EXPECT_TRUE(f["next_attempt_at"].is_null());
  const auto abandoned = listed("?forwarding=abandoned");
  ASSERT_EQ(abandoned["items"].size(), 1u);
  EXPECT_EQ(abandoned["items"][0]["report_id"], report_id);
  EXPECT_TRUE(listed("?forwarding=pending")["items"].empty());
  EXPECT_EQ(call("GET", "/v1/outage-reports?forwarding=lost", admin_key_).json()["error"]["field"], "forwarding");
  clock_.advance(3600s);
  EXPECT_EQ(forwarder.forward_once(), 0u);  // never tried again
}

TEST_F(OutageReports, RunningForwarderDeliversANewReportWithoutBeingAsked) {
  FakeOmsProcess oms;
  put_customer("c1");
  auto config = oms_config(oms);
  config.poll_interval = 60s;  // only the NOTIFY of the filed report wakes it in time
  engine::ReportForwarder forwarder(db_->db(), config, clock_, "forwarder-1");
  forwarder.start();
  const auto report_id = file("A-c1");
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (oms.state()["reports"].empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(oms.state()["reports"].size(), 1u);
  forwarder.stop();
  EXPECT_EQ(forwarding_of(report_id)["state"], "delivered");
}

}  // namespace
}  // namespace herald::test
