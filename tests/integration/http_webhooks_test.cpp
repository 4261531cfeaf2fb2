// Over real HTTP: Twilio status callbacks (signature checked) and one-click unsubscribe links.
#include "herald/domain/signed_token.hpp"
#include "herald/gateways/encoding.hpp"
#include "herald/gateways/twilio.hpp"
#include "http_test_client.hpp"
#include "store_test_util.hpp"

namespace herald::test {
namespace {

class HttpWebhooks : public HttpServerFixture {
 protected:
  HttpResponse post_status(const gateways::FormParams& params, const std::string& signature) {
    HttpRequestSpec spec;
    spec.method = "POST";
    spec.target = "/v1/webhooks/twilio/status";
    spec.body = gateways::form_urlencode(params);
    spec.headers["Content-Type"] = "application/x-www-form-urlencoded";
    if (!signature.empty()) spec.headers["X-Twilio-Signature"] = signature;
    return http_exchange(port_, spec);
  }
  std::string sign(const gateways::FormParams& params) {
    return gateways::twilio_signature(kTwilioToken, std::string(kPublicBase) + "/v1/webhooks/twilio/status", params);
  }
  std::int64_t sent_message(std::string status, std::string provider_id) {
    MessageRow m;
    m.status = std::move(status);
    m.provider_id = std::move(provider_id);
    m.gateway = "twilio";
    return insert_message(*db_, m);
  }
  std::string status_of(std::int64_t id) {
    return db_->query_value("SELECT status FROM herald.messages WHERE id = " + std::to_string(id));
  }
  std::string receipts() { return db_->query_value("SELECT count(*) FROM herald.delivery_receipts"); }
};

TEST_F(HttpWebhooks, SignedDeliveredCallbackMovesTheMessageToDelivered) {
  auto id = sent_message("sent", "SM123");
  gateways::FormParams params = {{"MessageSid", "SM123"}, {"MessageStatus", "delivered"}, {"AccountSid", "AC1"}};
  auto r = post_status(params, sign(params));
  ASSERT_EQ(r.status / 100, 2) << r.body;
  EXPECT_EQ(status_of(id), "delivered");
  EXPECT_EQ(receipts(), "1");
  EXPECT_EQ(db_->query_value("SELECT raw->>'MessageStatus' FROM herald.delivery_receipts"), "delivered");
}

TEST_F(HttpWebhooks, LateSentCallbackNeverMovesDeliveredBackwards) {
  auto id = sent_message("delivered", "SM9");
  gateways::FormParams params = {{"MessageSid", "SM9"}, {"MessageStatus", "sent"}};
  ASSERT_EQ(post_status(params, sign(params)).status / 100, 2);
  EXPECT_EQ(status_of(id), "delivered");
}

TEST_F(HttpWebhooks, FailedCallbackRecordsTheErrorCode) {
  auto id = sent_message("sent", "SM5");
  gateways::FormParams params = {{"MessageSid", "SM5"}, {"MessageStatus", "undelivered"}, {"ErrorCode", "30003"}};
  ASSERT_EQ(post_status(params, sign(params)).status / 100, 2);
  EXPECT_EQ(status_of(id), "undelivered");
  EXPECT_EQ(db_->query_value("SELECT error_code FROM herald.delivery_receipts"), "30003");
}

TEST_F(HttpWebhooks, BadOrMissingSignatureIsForbiddenAndStoresNothing) {
  auto id = sent_message("sent", "SM123");
  gateways::FormParams params = {{"MessageSid", "SM123"}, {"MessageStatus", "delivered"}};
  auto signature = sign(params);
  gateways::FormParams tampered = {{"MessageSid", "SM123"}, {"MessageStatus", "failed"}};
  EXPECT_EQ(post_status(tampered, signature).status, 403);
  EXPECT_EQ(post_status(params, "").status, 403);
  auto wrong_key = gateways::twilio_signature("other-token", std::string(kPublicBase) + "/v1/webhooks/twilio/status", params);
  EXPECT_EQ(post_status(params, wrong_key).status, 403);
  EXPECT_EQ(status_of(id), "sent");
  EXPECT_EQ(receipts(), "0");
}

// A field that is not UTF-8 (here a Latin-1 byte in ErrorMessage) cannot be kept with the
// receipt: a 422 naming it, nothing stored, instead of a 500 from the JSON encoder.
TEST_F(HttpWebhooks, CallbackWithAFieldThatIsNotUtf8IsRefusedByName) {
  auto id = sent_message("sent", "SM77");
  gateways::FormParams params = {{"MessageSid", "SM77"}, {"MessageStatus", "delivered"}, {"ErrorMessage", "caf\xe9"}};
  auto r = post_status(params, sign(params));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("ErrorMessage"), std::string::npos) << r.body;
  EXPECT_EQ(status_of(id), "sent");
  EXPECT_EQ(receipts(), "0");
}

TEST_F(HttpWebhooks, UnsubscribePageThenPostSwitchesTheTopicOff) {
  put_customer("c1");
  auto token = sign_token({{"c", 1},
                           {"ch", "email"},
                           {"a", "c1@example.com"},
                           {"t", "billing"},
                           {"exp", to_unix_seconds(clock_.now()) + 3600}},
                          kSecret);
  auto page = call("GET", "/v1/unsubscribe/" + token);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.header("content-type").rfind("text/html", 0), 0u);
  EXPECT_NE(page.body.find("billing"), std::string::npos);
  EXPECT_NE(page.body.find("<form method=\"post\""), std::string::npos);
  // Looking at the page changes nothing (mail scanners follow links).
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.consent_events WHERE state = 'opted_out'"), "0");

  HttpRequestSpec post;
  post.method = "POST";
  post.target = "/v1/unsubscribe/" + token;
  post.body = "List-Unsubscribe=One-Click";
  post.headers["Content-Type"] = "application/x-www-form-urlencoded";
  auto done = http_exchange(port_, post);
  ASSERT_EQ(done.status, 200) << done.body;
  auto prefs = call("GET", "/v1/customers/c1/preferences", cis_key_).json();
  EXPECT_EQ(prefs["topics"]["billing"]["channels"], (Json{"sms"}));
  EXPECT_EQ(db_->query_value("SELECT evidence FROM herald.consent_events WHERE state = 'opted_out'"),
            "token:" + token.substr(0, 16));
}

TEST_F(HttpWebhooks, ExpiredOrForgedUnsubscribeLinkIsNotFound) {
  auto expired = sign_token({{"ch", "email"}, {"a", "c1@example.com"}, {"t", "billing"},
                             {"exp", to_unix_seconds(clock_.now()) - 10}},
                            kSecret);
  EXPECT_EQ(call("GET", "/v1/unsubscribe/" + expired).status, 404);
  EXPECT_EQ(call("POST", "/v1/unsubscribe/" + expired).status, 404);
  auto forged = sign_token({{"ch", "email"}, {"a", "c1@example.com"}, {"t", "billing"},
                            {"exp", to_unix_seconds(clock_.now()) + 3600}},
                           "not-the-secret");
  EXPECT_EQ(call("POST", "/v1/unsubscribe/" + forged).status, 404);
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.consent_events WHERE state = 'opted_out'"), "0");
}

}  // namespace
}  // namespace herald::test
