// Over real HTTP and Postgres: texts from phones through Kannel's smsbox (GET
// /v1/webhooks/kannel/mo), handed to the inbound pipeline and answered in the response body.
#include "herald/engine/inbound.hpp"
#include "http_test_client.hpp"
#include "store_test_util.hpp"

namespace herald::test {
namespace {

constexpr const char* kPhone = "+12175550101";

class HttpKannelMo : public HttpServerFixture {
 protected:
  void SetUp() override {
    HttpServerFixture::SetUp();
    engine::register_builtin_actions(actions_);
    engine::InboundSettings settings;
    settings.utility_name = "Springfield Utilities";
    pipeline_ = std::make_unique<engine::InboundPipeline>(db_->db(), settings, actions_, clock_);
    inbound_ = pipeline_.get();
    restart();
  }
  void TearDown() override {
    stop_server();
    pipeline_.reset();
  }

  // As smsbox calls its get-url: ...?token=T&from=%p&to=%P&text=%a&id=%I, every value URL-encoded.
  HttpResponse mo(const std::string& text, const std::string& id, const std::string& token = kKannelToken) {
    return call("GET", "/v1/webhooks/kannel/mo?token=" + token + "&from=%2B12175550101&to=12345&text=" + text +
                           "&id=" + id);
  }
  std::string count(const std::string& from_where) { return db_->query_value("SELECT count(*) FROM " + from_where); }

  engine::ActionRegistry actions_;
  std::unique_ptr<engine::InboundPipeline> pipeline_;
};

TEST_F(HttpKannelMo, StopOptsTheNumberOutAndTheReplyIsThePlainBody) {
  put_customer("c1", kPhone);
  auto r = mo("STOP", "6f1c2a9e-0001");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type").rfind("text/plain", 0), 0u) << r.header("content-type");
  EXPECT_NE(r.body.find("You are unsubscribed"), std::string::npos) << r.body;
  EXPECT_EQ(count("herald.consent_events WHERE state = 'opted_out' AND source = 'sms' AND address = '" +
                  std::string(kPhone) + "'"),
            "1");
  EXPECT_EQ(db_->query_value("SELECT provider || ':' || provider_message_id FROM herald.inbound_messages"),
            "kannel:6f1c2a9e-0001");
}

TEST_F(HttpKannelMo, SmsboxCallingAgainWithTheSameIdIsActedOnOnce) {
  put_customer("c1", kPhone);
  auto first = mo("STOP", "6f1c2a9e-0002");
  auto again = mo("STOP", "6f1c2a9e-0002");
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(count("herald.inbound_messages"), "1");
  EXPECT_EQ(count("herald.consent_events WHERE state = 'opted_out'"), "1");
}

TEST_F(HttpKannelMo, BadTokenIsForbiddenAndStoresNothing) {
  put_customer("c1", kPhone);
  auto r = mo("STOP", "6f1c2a9e-0003", "kannel-token-0123456780");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(call("GET", "/v1/webhooks/kannel/mo?from=%2B12175550101&text=STOP").status, 403);
  EXPECT_EQ(count("herald.inbound_messages"), "0");
  EXPECT_EQ(count("herald.consent_events WHERE state = 'opted_out'"), "0");
}

TEST_F(HttpKannelMo, MissingSenderIsRejectedNamingTheField) {
  auto r = call("GET", std::string("/v1/webhooks/kannel/mo?token=") + kKannelToken + "&text=STOP");
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("\"field\":\"from\""), std::string::npos) << r.body;
  EXPECT_EQ(count("herald.inbound_messages"), "0");
}

TEST_F(HttpKannelMo, TextThatIsNotUtf8IsRejectedNamingTheFieldAndStoresNothing) {
  put_customer("c1", kPhone);
  // "stop" in Latin-1 bytes with an accented prefix: smsbox passes %a in the MO's own charset.
  auto r = mo("%E9stop", "6f1c2a9e-0005");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("\"field\":\"text\""), std::string::npos) << r.body;
  EXPECT_EQ(mo("a%00b", "6f1c2a9e-0006").status, 422);
  // A bad token still answers 403 first.
  EXPECT_EQ(mo("%E9stop", "6f1c2a9e-0007", "kannel-token-0123456780").status, 403);
  EXPECT_EQ(count("herald.inbound_messages"), "0");
  EXPECT_EQ(count("herald.consent_events WHERE state = 'opted_out'"), "0");
}

}  // namespace
}  // namespace herald::test
