// Over real HTTP: who may call what (401, 403, 404 for another customer's resources).
#include "http_test_client.hpp"

namespace herald::test {
namespace {

class HttpAuth : public HttpServerFixture {};

TEST_F(HttpAuth, NoCredentialsIsUnauthorizedWithBearerChallenge) {
  auto r = call("GET", "/v1/customers/c1");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("www-authenticate"), "Bearer");
  EXPECT_EQ(r.json()["error"]["code"], "unauthorized");
}

TEST_F(HttpAuth, UnknownOrRevokedKeyIsUnauthorized) {
  EXPECT_EQ(call("GET", "/v1/customers/c1", "hk_not_a_key").status, 401);
  auto key = store::create_api_key(db_->db(), "cis", "soon-revoked");
  store::revoke_api_keys(db_->db(), "soon-revoked");
  EXPECT_EQ(call("GET", "/v1/customers/c1", key).status, 401);
}

TEST_F(HttpAuth, CisKeyOnAdminRoutesIsForbidden) {
  EXPECT_EQ(call("GET", "/v1/messages", cis_key_).status, 403);
  EXPECT_EQ(call("GET", "/v1/messages/1", cis_key_).status, 403);
  EXPECT_EQ(call("GET", "/v1/reports/volume", cis_key_).status, 403);
  EXPECT_EQ(call("GET", "/v1/messages", admin_key_).status, 200);
}

TEST_F(HttpAuth, CustomerTokenReachesOwnPreferencesOnly) {
  put_customer("ca", "+12175550101");
  put_customer("cb", "+12175550102");
  auto token = customer_token("ca");
  EXPECT_EQ(call("GET", "/v1/customers/ca/preferences", token).status, 200);
  auto other = call("GET", "/v1/customers/cb/preferences", token);
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(call("PUT", "/v1/customers/cb/preferences", token, Json::object()).status, 404);
}

TEST_F(HttpAuth, CustomerTokenReadsItsOwnCustomerOnlyAndCannotReplaceIt) {
  put_customer("ca", "+12175550101");
  put_customer("cb", "+12175550102");
  auto token = customer_token("ca");
  auto own = call("GET", "/v1/customers/ca", token);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(own.json()["customer_id"], "ca");
  auto other = call("GET", "/v1/customers/cb", token);
  EXPECT_EQ(other.status, 404);  // another customer looks like no customer
  EXPECT_EQ(other.body.find("+12175550102"), std::string::npos);
  EXPECT_EQ(call("PUT", "/v1/customers/ca", token, customer_body("ca")).status, 403);
  EXPECT_EQ(call("POST", "/v1/customers/ca/portal-tokens", token).status, 403);
}

TEST_F(HttpAuth, CustomerTokenOnCisAndAdminRoutesIsForbidden) {
  put_customer("ca");
  auto token = customer_token("ca");
  EXPECT_EQ(call("POST", "/v1/events", token, Json::object()).status, 403);
  EXPECT_EQ(call("GET", "/v1/messages", token).status, 403);
}

TEST_F(HttpAuth, PortalTokenFromTheApiWorksForThatCustomer) {
  put_customer("ca");
  auto r = call("POST", "/v1/customers/ca/portal-tokens", cis_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = r.json();
  const auto token = body["token"].get<std::string>();
  EXPECT_EQ(body["url"], "/portal/#token=" + token);
  EXPECT_TRUE(parse_time(body["expires_at"].get<std::string>()));
  EXPECT_EQ(call("GET", "/v1/customers/ca/preferences", token).status, 200);
}

TEST_F(HttpAuth, PortalTokenForUnknownCustomerIsNotFound) {
  EXPECT_EQ(call("POST", "/v1/customers/nobody/portal-tokens", cis_key_).status, 404);
}

TEST_F(HttpAuth, OpsEndpointsNeedNoCredentials) {
  EXPECT_EQ(call("GET", "/livez").status, 200);
  EXPECT_EQ(call("GET", "/readyz").status, 200);
  auto m = call("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("herald_http_requests_total"), std::string::npos);
  auto doc = call("GET", "/v1/openapi.json");
  ASSERT_EQ(doc.status, 200);
  EXPECT_TRUE(doc.json()["paths"].contains("/v1/events"));
}

TEST_F(HttpAuth, ReadinessFollowsTheReadyCheck) {
  ready_ = false;
  EXPECT_EQ(call("GET", "/readyz").status, 503);
  ready_ = true;
  EXPECT_EQ(call("GET", "/readyz").status, 200);
}

}  // namespace
}  // namespace herald::test
