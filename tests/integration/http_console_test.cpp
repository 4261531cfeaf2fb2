// Over real HTTP: the admin console's reads: customer search (every kind of key, keyset pages,
// masking and the audited reveal) and the per-gateway report against computed expectations.
#include <algorithm>
#include <cmath>
#include <map>

#include "http_test_client.hpp"
#include "store_test_util.hpp"

namespace herald::test {
namespace {

class HttpConsole : public HttpServerFixture {
 protected:
  void put_named(const std::string& id, const std::string& name, const std::string& phone) {
    auto body = customer_body(id, phone);
    body["name"] = name;
    auto r = call("PUT", "/v1/customers/" + id, cis_key_, body);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // The customer ids of one search page, in the order answered.
  std::vector<std::string> found(const std::string& query) {
    auto r = call("GET", "/v1/customers?" + query, admin_key_);
    EXPECT_EQ(r.status, 200) << query << " " << r.body;
    std::vector<std::string> out;
    const auto body = r.json();
    for (const auto& c : body["items"]) out.push_back(c["customer_id"]);
    return out;
  }
};

using Ids = std::vector<std::string>;

TEST_F(HttpConsole, CustomerSearchFindsByNamePhoneEmailAndIds) {
  put_named("c1", "Ada Lovelace", "+12175550101");
  put_named("c2", "Grace Hopper", "+12175550102");
  put_named("c3", "Ada Hopper", "+12175550103");

  EXPECT_EQ(found("q=lovel"), Ids{"c1"});
  EXPECT_EQ(found("q=HOPPER"), (Ids{"c2", "c3"}));  // case-insensitive, by customer id
  EXPECT_EQ(found("q=%28217%29%20555-0102"), Ids{"c2"});  // any format, searched as E.164
  EXPECT_EQ(found("q=C3%40Example.COM"), Ids{"c3"});     // searched normalised
  EXPECT_EQ(found("q=A-c1"), Ids{"c1"});
  EXPECT_EQ(found("q=P-c2"), Ids{"c2"});
  EXPECT_EQ(found("q=c3"), Ids{"c3"});
  EXPECT_EQ(found("q=Ad"), Ids{});  // two letters: ids only, no name fragment
  EXPECT_EQ(found("q=nobody"), Ids{});
  EXPECT_EQ(found("q=100%25"), Ids{});  // "%" is literal, not "every name"

  auto r = call("GET", "/v1/customers?q=%28217%29%20555-0102", admin_key_);
  ASSERT_EQ(r.status, 200);
  const auto c2 = r.json()["items"][0];
  EXPECT_EQ(c2["name"], "Grace Hopper");
  EXPECT_EQ(c2["matched_by"], Json::array({"phone"}));
  EXPECT_EQ(c2["accounts"][0]["account_id"], "A-c2");
  EXPECT_EQ(c2["accounts"][0]["premise_id"], "P-c2");
  ASSERT_EQ(c2["contacts"].size(), 3u);
  EXPECT_EQ(c2["contacts"][0]["consent"], "opted_in");
  EXPECT_TRUE(c2["contacts"][0]["verified"].get<bool>());
}

TEST_F(HttpConsole, CustomerSearchMasksContactsUnlessRevealedAndAuditsTheReveal) {
  put_named("c1", "Ada Lovelace", "+12175550101");
  auto masked = call("GET", "/v1/customers?q=Lovelace", admin_key_);
  ASSERT_EQ(masked.status, 200);
  EXPECT_EQ(masked.body.find("+12175550101"), std::string::npos) << masked.body;
  EXPECT_EQ(masked.body.find("c1@example.com"), std::string::npos) << masked.body;
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.audit_log WHERE action = 'customers.reveal'"), "0");

  auto revealed = call("GET", "/v1/customers?q=Lovelace&reveal=1", admin_key_);
  ASSERT_EQ(revealed.status, 200);
  EXPECT_NE(revealed.body.find("+12175550101"), std::string::npos) << revealed.body;
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.audit_log WHERE action = 'customers.reveal'"), "1");
  EXPECT_EQ(db_->query_value("SELECT detail->>'count' FROM herald.audit_log WHERE action = 'customers.reveal'"), "1");
}

TEST_F(HttpConsole, CustomerSearchPagesWalkEveryMatchOnce) {
  Ids expected;
  for (int i = 0; i < 7; ++i) {
    const auto id = "p" + std::to_string(i);
    put_named(id, "Pat Example " + std::to_string(i), "+1217555020" + std::to_string(i));
    expected.push_back(id);
  }
  put_named("other", "Someone Else", "+12175550299");
  Ids seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r = call("GET", "/v1/customers?q=example&limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor), admin_key_);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = r.json();
    for (const auto& c : body["items"]) seen.push_back(c["customer_id"]);
    cursor = body["next_cursor"].is_null() ? "" : body["next_cursor"].get<std::string>();
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, expected);
}

TEST_F(HttpConsole, CustomerSearchRejectsBadInputNamingTheField) {
  auto r = call("GET", "/v1/customers", admin_key_);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "q");
  r = call("GET", "/v1/customers?q=ada&limit=0", admin_key_);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "limit");
  r = call("GET", "/v1/customers?q=ada&cursor=not-ours", admin_key_);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "cursor");
  r = call("GET", "/v1/customers?q=%FF%FE", admin_key_);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "q");
  r = call("GET", "/v1/customers?q=ada%00", admin_key_);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "q");
  EXPECT_EQ(call("GET", "/v1/customers?q=ada", cis_key_).status, 403);
  EXPECT_EQ(call("GET", "/v1/customers?q=ada").status, 401);
}

// Postgres's percentile_cont: linear interpolation between the closest ranks.
double percentile_cont(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double rank = p * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const auto hi = static_cast<std::size_t>(std::ceil(rank));
  return v[lo] + (rank - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

TEST_F(HttpConsole, GatewayReportCountsAndLatenciesMatchTheAttemptsAndReceipts) {
  struct Expect {
    long attempts = 0, accepted = 0, rejected = 0, delivered = 0, undelivered = 0;
    std::vector<double> durations, delivery_ms;
  };
  std::map<std::string, Expect> expect;
  const std::string day = "2026-11-20T";
  // Attempt i of a gateway: its outcome, its duration and (for an accepted one) the receipt that
  // follows, varied by i so that every count and both percentiles have several inputs.
  auto add_attempts = [&](const std::string& gateway, int n, bool in_range) {
    for (int i = 0; i < n; ++i) {
      MessageRow m;
      m.created_at = in_range ? day + "10:00:00Z" : "2026-11-19T10:00:00Z";
      const auto id = std::to_string(insert_message(*db_, m));
      const std::string outcome = i % 5 == 3 ? "retry" : i % 7 == 6 ? "failed" : "sent";
      const int duration = 40 + (i * 37) % 300;
      const std::string started = (in_range ? day : std::string("2026-11-19T")) + "12:00:" +
                                  (i < 10 ? "0" : "") + std::to_string(i) + "Z";
      const std::string provider = outcome == "sent" ? "'" + gateway + "-" + id + "'" : "NULL";
      db_->exec("INSERT INTO herald.message_attempts (message_id, attempt, gateway, started_at, duration_ms, outcome,"
                " provider_id) VALUES (" + id + ", 1, '" + gateway + "', '" + started + "', " +
                std::to_string(duration) + ", '" + outcome + "', " + provider + ")");
      std::string receipt;                       // the final receipt, if any
      const int seconds = 2 + (i * 13) % 50;     // from the attempt's start to that receipt
      if (outcome == "sent") {
        // A "sent" receipt first, which is not final; then delivered, undelivered or nothing.
        receipt = i % 4 == 1 ? "undelivered" : i % 4 == 2 ? "" : "delivered";
        db_->exec("INSERT INTO herald.delivery_receipts (message_id, gateway, provider_id, status, received_at)"
                  " VALUES (" + id + ", '" + gateway + "', " + provider + ", 'sent', timestamptz '" + started +
                  "' + interval '1 second')");
        if (!receipt.empty()) {
          db_->exec("INSERT INTO herald.delivery_receipts (message_id, gateway, provider_id, status, received_at)"
                    " VALUES (" + id + ", '" + gateway + "', " + provider + ", '" + receipt + "', timestamptz '" +
                    started + "' + interval '" + std::to_string(seconds) + " seconds')");
          // A repeated receipt later on counts once.
          db_->exec("INSERT INTO herald.delivery_receipts (message_id, gateway, provider_id, status, received_at)"
                    " VALUES (" + id + ", '" + gateway + "', " + provider + ", '" + receipt + "', timestamptz '" +
                    started + "' + interval '1 hour')");
        }
      }
      if (!in_range) continue;
      auto& e = expect[gateway];
      ++e.attempts;
      e.durations.push_back(duration);
      if (outcome == "sent") {
        ++e.accepted;
        if (receipt == "delivered") {
          ++e.delivered;
          e.delivery_ms.push_back(seconds * 1000.0);
        }
        if (receipt == "undelivered") ++e.undelivered;
      } else {
        ++e.rejected;
      }
    }
  };
  add_attempts("twilio", 23, true);
  add_attempts("smtp", 9, true);
  add_attempts("twilio", 6, false);  // the day before: outside the range

  auto r = call("GET", "/v1/reports/gateways?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z", admin_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = r.json();
  EXPECT_EQ(body["from"], "2026-11-20T00:00:00Z");
  ASSERT_EQ(body["gateways"].size(), 2u) << r.body;
  EXPECT_EQ(body["gateways"][0]["gateway"], "smtp");
  for (const auto& g : body["gateways"]) {
    const auto& e = expect.at(g["gateway"].get<std::string>());
    SCOPED_TRACE(g.dump());
    EXPECT_EQ(g["attempts"], e.attempts);
    EXPECT_EQ(g["accepted"], e.accepted);
    EXPECT_EQ(g["rejected"], e.rejected);
    EXPECT_EQ(g["delivered"], e.delivered);
    EXPECT_EQ(g["undelivered"], e.undelivered);
    EXPECT_EQ(g["failed"], e.rejected + e.undelivered);
    EXPECT_DOUBLE_EQ(g["delivery_rate"].get<double>(), static_cast<double>(e.delivered) / static_cast<double>(e.accepted));
    EXPECT_DOUBLE_EQ(g["failure_rate"].get<double>(),
                     static_cast<double>(e.rejected + e.undelivered) / static_cast<double>(e.attempts));
    EXPECT_NEAR(g["median_latency_ms"].get<double>(), percentile_cont(e.durations, 0.5), 1e-6);
    EXPECT_NEAR(g["p95_latency_ms"].get<double>(), percentile_cont(e.durations, 0.95), 1e-6);
    EXPECT_NEAR(g["median_delivery_ms"].get<double>(), percentile_cont(e.delivery_ms, 0.5), 1e-6);
    EXPECT_NEAR(g["p95_delivery_ms"].get<double>(), percentile_cont(e.delivery_ms, 0.95), 1e-6);
  }
}

TEST_F(HttpConsole, GatewayReportOfAnEmptyRangeHasNoGatewaysAndABadRangeNamesTheField) {
  auto r = call("GET", "/v1/reports/gateways?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z", admin_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.json()["gateways"].empty());
  r = call("GET", "/v1/reports/gateways?from=2020-01-02T00:00:00Z&to=2020-01-01T00:00:00Z", admin_key_);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "from");
  r = call("GET", "/v1/reports/gateways?to=yesterday", admin_key_);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "to");
  EXPECT_EQ(call("GET", "/v1/reports/gateways", cis_key_).status, 403);
}

}  // namespace
}  // namespace herald::test
