// handle_request without a server or a database: routing errors, access rules, body checks,
// and the database-down mapping (the pool points at a port where nothing listens).
#include "herald/http/api.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "herald/domain/customer_token.hpp"
#include "herald/domain/metrics.hpp"
#include "herald/domain/signed_token.hpp"
#include "herald/gateways/twilio.hpp"
#include "herald/rules/clock.hpp"
#include "herald/rules/decide.hpp"
#include "herald/store/db.hpp"

using namespace herald;
using namespace herald::http;

namespace {

// A TCP port that refuses connections: bound and closed again.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

constexpr const char* kSecret = "unit-secret";

struct ApiFixture : ::testing::Test {
  store::Database db{"postgresql://postgres@127.0.0.1:" + std::to_string(closed_port()) + "/none?connect_timeout=2", 1};
  rules::RulesConfig rules = rules::default_rules_config();
  rules::SystemClock clock;
  bool ready = true;
  ServerConfig config = [] {
    ServerConfig c;
    c.json_max_depth = 4;
    return c;
  }();
  PublicUrls urls{"https://herald.example.com"};
  TokenSecret secret{kSecret};
  Services services{db, rules, urls, secret, {"tw-token"}, [this] { return ready; }, clock, nullptr, {"kannel-token-0123456789"},
                    nullptr};
  Api api{config, services};

  Response send(std::string method, std::string target, std::string token = {}, std::string body = {},
                std::string content_type = "application/json") {
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    if (!token.empty()) r.set_header("Authorization", "Bearer " + token);
    if (!body.empty()) r.set_header("Content-Type", content_type);
    r.body = std::move(body);
    return api.handle(r);
  }
  std::string token_for(const std::string& customer) {
    return issue_customer_token(kSecret, customer, clock.now() + std::chrono::hours(1));
  }
  static std::string code_of(const Response& r) { return Json::parse(r.body)["error"]["code"]; }
};

}  // namespace

TEST_F(ApiFixture, UnknownPathIsNotFoundInTheErrorShape) {
  auto r = send("GET", "/v1/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(code_of(r), "not_found");
}

TEST_F(ApiFixture, WrongMethodIsMethodNotAllowedWithAllow) {
  auto r = send("DELETE", "/v1/events");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow").value_or(""), "POST");
  EXPECT_EQ(code_of(r), "method_not_allowed");
}

TEST_F(ApiFixture, MissingCredentialsAreUnauthorizedWithChallenge) {
  auto r = send("GET", "/v1/messages");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate").value_or(""), "Bearer");
}

TEST_F(ApiFixture, CustomerTokenOnAdminAndCisRoutesIsForbidden) {
  EXPECT_EQ(send("GET", "/v1/messages", token_for("c1")).status, 403);
  EXPECT_EQ(send("PUT", "/v1/customers/c1", token_for("c1"), "{}").status, 403);
}

TEST_F(ApiFixture, CustomerTokenOnAnotherCustomerLooksMissing) {
  auto r = send("GET", "/v1/customers/c2/preferences", token_for("c1"));
  EXPECT_EQ(r.status, 404);
}

TEST_F(ApiFixture, ExpiredOrForeignTokensAreUnauthorizedOnceTheKeyLookupFindsNothing) {
  // A token signed with another secret is not a customer token; it is then tried as an API
  // key, which needs the database: here unreachable, so 503 rather than a guess.
  auto foreign = issue_customer_token("other-secret", "c1", clock.now() + std::chrono::hours(1));
  auto r = send("GET", "/v1/customers/c1/preferences", foreign);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(code_of(r), "unavailable");
}

TEST_F(ApiFixture, NonJsonContentTypeIsUnsupportedMediaType) {
  auto r = send("PUT", "/v1/customers/c1/preferences", token_for("c1"), "{\"language\":\"en\"}", "text/plain");
  EXPECT_EQ(r.status, 415);
}

TEST_F(ApiFixture, JsonNestedBeyondTheLimitIsBadRequest) {
  auto r = send("PUT", "/v1/customers/c1/preferences", token_for("c1"), "{\"a\":[[[[[[1]]]]]]}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(code_of(r), "json_too_deep");
}

TEST_F(ApiFixture, MalformedJsonIsBadRequest) {
  EXPECT_EQ(send("PUT", "/v1/customers/c1/preferences", token_for("c1"), "{\"a\":").status, 400);
}

TEST_F(ApiFixture, InvalidPreferencesAreUnprocessableBeforeAnyStoreCall) {
  auto r = send("PUT", "/v1/customers/c1/preferences", token_for("c1"),
                R"({"topics":{"billing":{"channels":["fax"]}},"quiet_hours":{"enabled":true,"start":"21:00","end":"08:00"},"language":"en"})");
  EXPECT_EQ(r.status, 422);
}

TEST_F(ApiFixture, DatabaseDownIsServiceUnavailableNotInternalError) {
  auto r = send("GET", "/v1/customers/c1/preferences", token_for("c1"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(code_of(r), "unavailable");
  EXPECT_EQ(r.body.find("postgres"), std::string::npos);  // no detail leaks
}

TEST_F(ApiFixture, TwilioCallbackWithBadSignatureIsForbidden) {
  Request r;
  r.method = "POST";
  r.target = "/v1/webhooks/twilio/status";
  r.body = "MessageSid=SM1&MessageStatus=delivered";
  r.set_header("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl");
  EXPECT_EQ(api.handle(r).status, 403);
  r.headers.erase("x-twilio-signature");
  EXPECT_EQ(api.handle(r).status, 403);
}

TEST_F(ApiFixture, UnsubscribeWithBadTokenIsNotFoundPage) {
  auto r = send("GET", "/v1/unsubscribe/not-a-token");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.header("Content-Type").value_or("").find("text/html"), std::string::npos);
  auto expired = sign_token({{"ch", "email"}, {"a", "a@example.com"}, {"t", "billing"}, {"exp", 1}}, kSecret);
  EXPECT_EQ(send("POST", "/v1/unsubscribe/" + expired).status, 404);
}

TEST_F(ApiFixture, UnsubscribePageNamesTopicAndMaskedAddressWithAPostForm) {
  auto token = sign_token({{"c", 7}, {"ch", "email"}, {"a", "ada@example.com"}, {"t", "billing"},
                           {"exp", to_unix_seconds(clock.now()) + 3600}},
                          kSecret);
  auto r = send("GET", "/v1/unsubscribe/" + token);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("billing"), std::string::npos);
  EXPECT_EQ(r.body.find("ada@example.com"), std::string::npos);  // masked
  EXPECT_NE(r.body.find("method=\"post\""), std::string::npos);
  EXPECT_NE(r.body.find("/v1/unsubscribe/" + token), std::string::npos);
}

TEST_F(ApiFixture, LivenessAlwaysReadinessFollowsServicesAndDraining) {
  EXPECT_EQ(send("GET", "/livez").status, 200);
  EXPECT_EQ(send("GET", "/readyz").status, 200);
  ready = false;
  EXPECT_EQ(send("GET", "/readyz").status, 503);
  ready = true;
  api.set_draining(true);
  EXPECT_EQ(send("GET", "/readyz").status, 503);
  EXPECT_EQ(send("GET", "/livez").status, 200);
}

TEST_F(ApiFixture, MetricsCountRequestsByRouteMethodAndCode) {
  send("GET", "/livez");
  auto r = send("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("Content-Type").value_or("").find("version=0.0.4"), std::string::npos);
  EXPECT_NE(r.body.find("herald_http_requests_total{code=\"200\",method=\"GET\",route=\"/livez\"}"), std::string::npos)
      << r.body.substr(0, 2000);
  EXPECT_NE(r.body.find("herald_http_request_seconds"), std::string::npos);
}

TEST_F(ApiFixture, UnknownMethodsShareOneMetricLabel) {
  send("BREW", "/v1/nothing");
  auto text = metrics::Registry::global().render();
  EXPECT_EQ(text.find("BREW"), std::string::npos);
}

TEST(OpenApi, DocumentParsesAndDescribesEveryApiRoute) {
  auto doc = Json::parse(openapi_document());
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  for (const auto& [method, pattern] : api_routes()) {
    if (pattern.find('*') != std::string::npos) continue;  // static pages
    // The route table names path parameters by role ({id}); OpenAPI by meaning ({customer_id}).
    std::string path = pattern;
    if (auto p = path.find("{id}"); p != std::string::npos) path.replace(p, 4, "{customer_id}");
    std::string lower = method;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ASSERT_TRUE(doc["paths"].contains(path)) << path;
    EXPECT_TRUE(doc["paths"][path].contains(lower)) << method << " " << path;
  }
}

namespace herald::http {
namespace {

// The contact routes answer who may call them and what a body must hold before any database work.
TEST_F(ApiFixture, ContactRoutesRefuseCallersWithoutTheRightToTheCustomer) {
  const std::string body = R"({"channel": "sms", "address": "+12175550199"})";
  EXPECT_EQ(send("POST", "/v1/customers/c1/contacts", "", body).status, 401);
  EXPECT_EQ(send("POST", "/v1/customers/c1/contacts", token_for("c2"), body).status, 404);
  EXPECT_EQ(send("POST", "/v1/customers/c1/contacts/verify", token_for("c2"), body).status, 404);
  EXPECT_EQ(send("DELETE", "/v1/customers/c1/contacts/sms/%2B12175550199", token_for("c2")).status, 404);
  EXPECT_EQ(send("GET", "/v1/customers/c1/consent", token_for("c2")).status, 404);
  EXPECT_EQ(send("GET", "/v1/customers/c1/consent").status, 401);
}

TEST_F(ApiFixture, ContactBodiesNameTheBadField) {
  auto r = send("POST", "/v1/customers/c1/contacts", token_for("c1"), R"({"channel": "pager", "address": "x"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Json::parse(r.body)["error"]["field"], "channel");
  r = send("POST", "/v1/customers/c1/contacts/verify", token_for("c1"),
           R"({"channel": "sms", "address": "+12175550199", "code": "12 34"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Json::parse(r.body)["error"]["field"], "code");
  r = send("GET", "/v1/customers/c1/consent?limit=501", token_for("c1"));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Json::parse(r.body)["error"]["field"], "limit");
}

}  // namespace
}  // namespace herald::http
