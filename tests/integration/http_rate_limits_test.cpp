// Over real HTTP: 429 with Retry-After per API key and per customer token, tighter limits for
// portal tokens, and other callers unaffected.
#include "http_test_client.hpp"

namespace herald::test {
namespace {

class HttpRateLimits : public HttpServerFixture {
 protected:
  void SetUp() override {
    HttpServerFixture::SetUp();
    // So slow a refill that none arrives during the test: the burst is all a caller gets.
    config_.rate_limits.cis = {0.01, 5};
    config_.rate_limits.customer = {0.01, 3};
    config_.rate_limits.portal_token = {0.01, 2};
    restart();
    // Set up with the admin key, whose limit the tests do not touch.
    auto r = call("PUT", "/v1/customers/c1", admin_key_, customer_body("c1"));
    ASSERT_EQ(r.status, 200) << r.body;
  }

  static void expect_rate_limited(const HttpResponse& r) {
    ASSERT_EQ(r.status, 429) << r.body;
    EXPECT_EQ(r.json()["error"]["code"], "rate_limited");
    const auto retry_after = r.header("retry-after");
    ASSERT_FALSE(retry_after.empty());
    EXPECT_GE(std::stoi(retry_after), 1);
  }
};

TEST_F(HttpRateLimits, OneRequestBeyondAKeysBurstIs429WithRetryAfterAndAnotherKeyIsUnaffected) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(call("GET", "/v1/customers/c1", cis_key_).status, 200) << i;
  expect_rate_limited(call("GET", "/v1/customers/c1", cis_key_));
  // Refused requests take nothing from the bucket: still refused, not worse.
  expect_rate_limited(call("GET", "/v1/customers/c1", cis_key_));

  const auto other = store::create_api_key(db_->db(), "cis", "other-cis");
  EXPECT_EQ(call("GET", "/v1/customers/c1", other).status, 200);
  EXPECT_EQ(call("GET", "/livez").status, 200);
}

TEST_F(HttpRateLimits, ACustomerTokenHasItsOwnTighterLimit) {
  const auto token = customer_token("c1");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(call("GET", "/v1/customers/c1/preferences", token).status, 200) << i;
  expect_rate_limited(call("GET", "/v1/customers/c1/preferences", token));
  // The CIS key is counted apart from the customer's token.
  EXPECT_EQ(call("GET", "/v1/customers/c1/preferences", cis_key_).status, 200);
}

TEST_F(HttpRateLimits, PortalTokensHaveATighterLimitThanTheKeysOtherRequests) {
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(call("POST", "/v1/customers/c1/portal-tokens", cis_key_, Json::object()).status, 200) << i;
  expect_rate_limited(call("POST", "/v1/customers/c1/portal-tokens", cis_key_, Json::object()));
  EXPECT_EQ(call("GET", "/v1/customers/c1", cis_key_).status, 200);
}

TEST_F(HttpRateLimits, RejectionsAreCountedInMetrics) {
  for (int i = 0; i < 6; ++i) call("GET", "/v1/customers/c1", cis_key_);
  auto m = call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("herald_http_rate_limited_total{limit=\"cis\"}"), std::string::npos) << m.body;
}

}  // namespace
}  // namespace herald::test
