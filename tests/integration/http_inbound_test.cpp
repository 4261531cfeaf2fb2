// Inbound SMS over real HTTP and Postgres: the Twilio webhook (signature, TwiML reply, replays),
// STOP/START/HELP, conversations opened by sent messages, expiry, and the choice among accounts
// on a shared number.
#include <atomic>

#include "herald/engine/engine.hpp"
#include "herald/engine/inbound.hpp"
#include "herald/gateways/encoding.hpp"
#include "herald/gateways/twilio.hpp"
#include "herald/rules/templates.hpp"
#include "herald/source_dir.hpp"
#include "http_test_client.hpp"
#include "store_test_util.hpp"

namespace herald::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPhone = "+12175550101";

class HttpInbound : public HttpServerFixture {
 protected:
  void SetUp() override {
    HttpServerFixture::SetUp();
    clock_now_.set(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
    rules_.utility_name = "Springfield Utilities";
    rules_.conversations["bill.ready"] = rules::ConversationSpec{{{"Y", "test.pay"}, {"N", "close"}}, 1h};
    engine::register_builtin_actions(actions_);
    actions_.add("test.pay", [this](const engine::ActionRequest& r) {
      ++paid_;
      engine::ActionResult out;
      out.reply = "Paid " + r.context["data"].value("amount_due", std::string("?")) + " for " +
                  (r.account ? r.account->account_id : std::string("no account"));
      return out;
    });
    // A service keyword that needs one account: asks which when the number has several.
    actions_.add("test.balance", [](const engine::ActionRequest& r) {
      if (auto ask = engine::ask_which_account(r, "test.balance")) return *ask;
      engine::ActionResult out;
      out.reply = "Balance for " + (r.account ? r.account->account_id : std::string("nobody"));
      return out;
    });
    engine::InboundSettings settings;
    settings.utility_name = "Springfield Utilities";
    settings.utility_phone = "+1 217 555 0100";
    settings.utility_url = "https://utility.example.com";
    settings.service_actions["BAL"] = "test.balance";
    pipeline_ = std::make_unique<engine::InboundPipeline>(db_->db(), settings, actions_, clock_now_);
    inbound_ = pipeline_.get();
    restart();
  }
  void TearDown() override {
    stop_server();
    engine_.reset();
    pipeline_.reset();
  }

  engine::Engine& engine() {
    if (!engine_) {
      engine::EngineConfig config;
      config.instance_id = "inbound-test";
      gateways::GatewayConfig log{"log", "log", Channel::sms, 1e6, 1e6, {}};
      for (auto channel : kAllChannels) {
        log.channel = channel;
        auto g = gateways::make_gateway(log);
        EXPECT_TRUE(g.ok());
        config.routes[channel].push_back({std::shared_ptr<gateways::Gateway>(std::move(*g)), 1e6, 1e6});
      }
      engine_ = std::make_unique<engine::Engine>(db_->db(), config, rules_, templates_, clock_now_);
    }
    return *engine_;
  }

  HttpResponse sms(const std::string& body, const std::string& sid, const std::string& from = kPhone,
                   bool good_signature = true) {
    gateways::FormParams params = {{"MessageSid", sid}, {"From", from}, {"To", "+12175550000"}, {"Body", body},
                                   {"AccountSid", "AC1"}};
    HttpRequestSpec spec;
    spec.method = "POST";
    spec.target = "/v1/webhooks/twilio/sms";
    spec.body = gateways::form_urlencode(params);
    spec.headers["Content-Type"] = "application/x-www-form-urlencoded";
    spec.headers["X-Twilio-Signature"] = gateways::twilio_signature(
        good_signature ? kTwilioToken : "not-the-token", std::string(kPublicBase) + "/v1/webhooks/twilio/sms", params);
    return http_exchange(port_, spec);
  }

  // The text of the TwiML <Message>, "" when the response has none.
  static std::string reply_of(const HttpResponse& r) {
    const auto open = r.body.find("<Message>");
    if (open == std::string::npos) return {};
    return r.body.substr(open + 9, r.body.find("</Message>") - open - 9);
  }

  std::string count(const std::string& from_where) { return db_->query_value("SELECT count(*) FROM " + from_where); }

  void post_bill(const std::string& event_id, const std::string& account = "A-c1") {
    auto r = call("POST", "/v1/events", cis_key_,
                  Json{{"event_id", event_id},
                       {"type", "bill.ready"},
                       {"account_id", account},
                       {"data", {{"amount_due", "82.17"}, {"due_date", "2099-12-10"}}}});
    ASSERT_EQ(r.status, 202) << r.body;
  }
  std::string sms_status(const std::string& event_id) {
    return db_->query_value("SELECT status || ':' || coalesce(suppression_reason, '') FROM herald.messages"
                            " WHERE channel = 'sms' AND event_id = '" + event_id + "'");
  }

  rules::ManualClock clock_now_;
  engine::ActionRegistry actions_;
  std::unique_ptr<engine::InboundPipeline> pipeline_;
  std::unique_ptr<engine::Engine> engine_;
  std::atomic<int> paid_{0};
};

TEST_F(HttpInbound, BadSignatureIsForbiddenAndStoresNothing) {
  put_customer("c1");
  auto r = sms("STOP", "SM-bad", kPhone, /*good_signature=*/false);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(count("herald.inbound_messages"), "0");
  EXPECT_EQ(count("herald.consent_events WHERE state = 'opted_out'"), "0");
}

TEST_F(HttpInbound, BodyThatIsNotUtf8IsRejectedNamingTheFieldAndStoresNothing) {
  put_customer("c1");
  auto r = sms(std::string("\xE9stop"), "SM-latin1");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("\"field\":\"Body\""), std::string::npos) << r.body;
  EXPECT_EQ(count("herald.inbound_messages"), "0");
  EXPECT_EQ(count("herald.consent_events WHERE state = 'opted_out'"), "0");
}

TEST_F(HttpInbound, ListParametersThatAreNotUtf8AreRejectedNamingThem) {
  auto r = call("GET", "/v1/inbound?address=%FF%FE", admin_key_);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("\"field\":\"address\""), std::string::npos) << r.body;
  r = call("GET", "/v1/customers/c%FF/consent", admin_key_);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("\"field\":\"id\""), std::string::npos) << r.body;
}

TEST_F(HttpInbound, ReplayedWebhookIsStoredAndActedOnOnce) {
  put_customer("c1");
  auto first = sms("STOP", "SM-1");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("content-type").rfind("text/xml", 0), 0u);
  auto again = sms("STOP", "SM-1");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(reply_of(again), reply_of(first));
  EXPECT_NE(reply_of(first).find("You are unsubscribed"), std::string::npos);
  EXPECT_EQ(count("herald.inbound_messages"), "1");
  EXPECT_EQ(count("herald.consent_events WHERE state = 'opted_out'"), "1");
}

TEST_F(HttpInbound, AReplayWhoseFirstDeliveryWasNeverAnsweredIsHandledOnce) {
  put_customer("c1");
  // The process that stored it died before acting: claimed an hour ago, never handled.
  db_->exec("INSERT INTO herald.inbound_messages (provider, provider_message_id, from_address, body, received_at,"
            " claimed_at) VALUES ('twilio', 'SM-lost', '+12175550101', 'HELP', now(), now() - interval '1 hour')");
  auto reply = reply_of(sms("HELP", "SM-lost"));
  EXPECT_NE(reply.find("Msg&amp;data rates may apply"), std::string::npos) << reply;
  EXPECT_EQ(count("herald.inbound_messages WHERE handled_at IS NOT NULL AND matched = 'help'"), "1");
  EXPECT_EQ(reply_of(sms("HELP", "SM-lost")), reply);
  EXPECT_EQ(count("herald.inbound_messages"), "1");
}

TEST_F(HttpInbound, StopVariantsOptOutAndTheNextAlertIsSuppressed) {
  put_customer("c1", "+12175550101");
  put_customer("c2", "+12175550102");
  EXPECT_NE(reply_of(sms("Stop.", "SM-a", "+12175550101")).find("Reply START to resubscribe"), std::string::npos);
  EXPECT_FALSE(reply_of(sms(" stop ", "SM-b", "+12175550102")).empty());
  EXPECT_EQ(db_->query_value("SELECT evidence FROM herald.consent_events WHERE address = '+12175550101' AND state = 'opted_out'"),
            "inbound:" + db_->query_value("SELECT id FROM herald.inbound_messages WHERE provider_message_id = 'SM-a'"));
  EXPECT_EQ(db_->query_value("SELECT source FROM herald.consent_events WHERE address = '+12175550102' AND state = 'opted_out'"), "sms");
  // A second STOP gets no second confirmation.
  EXPECT_EQ(reply_of(sms("STOP", "SM-c", "+12175550101")), "");
  EXPECT_EQ(count("herald.consent_events WHERE state = 'opted_out'"), "2");

  post_bill("bill-after-stop", "A-c1");
  engine().intake_once();
  EXPECT_EQ(sms_status("bill-after-stop"), "suppressed:opted_out");
}

TEST_F(HttpInbound, StopWordsInsideOtherTextAreNotOptOuts) {
  put_customer("c1");
  for (const char* text : {"stopwatch", "don't stop"}) {
    auto reply = reply_of(sms(text, std::string("SM-") + text));
    EXPECT_NE(reply.find("Reply BAL"), std::string::npos) << text;  // the keyword menu
  }
  EXPECT_EQ(count("herald.consent_events WHERE state = 'opted_out'"), "0");
}

TEST_F(HttpInbound, HelpRepliesWithTheProgramTextEvenWhenOptedOut) {
  put_customer("c1");
  for (const char* sid : {"SM-h1", "SM-h2"}) {
    auto reply = reply_of(sms("help", sid));
    EXPECT_NE(reply.find("Springfield Utilities"), std::string::npos) << reply;
    EXPECT_NE(reply.find("Msg&amp;data rates may apply"), std::string::npos) << reply;  // XML-escaped
    EXPECT_NE(reply.find("Reply STOP"), std::string::npos) << reply;
    EXPECT_NE(reply.find("+1 217 555 0100"), std::string::npos) << reply;
    sms("STOP", "SM-stop");
  }
  // Anything else from an opted-out number is stored and not answered.
  EXPECT_EQ(reply_of(sms("BAL", "SM-bal")), "");
  EXPECT_EQ(db_->query_value("SELECT matched FROM herald.inbound_messages WHERE provider_message_id = 'SM-bal'"),
            "ignored");
}

TEST_F(HttpInbound, StartResubscribes) {
  put_customer("c1");
  sms("STOP", "SM-1");
  auto reply = reply_of(sms("Start", "SM-2"));
  EXPECT_NE(reply.find("subscribed"), std::string::npos) << reply;
  EXPECT_EQ(db_->query_value("SELECT state FROM herald.consent_events ORDER BY id DESC LIMIT 1"), "opted_in");
  EXPECT_EQ(db_->query_value("SELECT consent FROM herald.contacts WHERE channel = 'sms'"), "opted_in");
  post_bill("bill-after-start");
  engine().intake_once();
  EXPECT_EQ(sms_status("bill-after-start"), "queued:");
}

TEST_F(HttpInbound, SentMessageOpensAConversationAndAReplyWithinItsTtlRunsTheAction) {
  put_customer("c1");
  post_bill("bill-1");
  engine().intake_once();
  engine().dispatch_once();
  ASSERT_EQ(sms_status("bill-1"), "sent:");
  const auto message_id = db_->query_value("SELECT id FROM herald.messages WHERE channel = 'sms'");
  ASSERT_EQ(count("herald.conversations WHERE state = 'open' AND message_id = " + message_id), "1");

  clock_now_.advance(40min);
  auto reply = reply_of(sms(" y. ", "SM-y"));
  EXPECT_EQ(reply, "Paid 82.17 for A-c1");
  EXPECT_EQ(paid_.load(), 1);
  EXPECT_EQ(count("herald.conversations WHERE state = 'closed'"), "1");

  auto detail = call("GET", "/v1/messages/" + message_id, admin_key_);
  ASSERT_EQ(detail.status, 200) << detail.body;
  const auto conversation = detail.json()["conversation"];
  ASSERT_TRUE(conversation.is_object()) << detail.body;
  EXPECT_EQ(conversation["state"], "closed");
  EXPECT_EQ(conversation["expected"]["Y"], "test.pay");
  ASSERT_EQ(conversation["replies"].size(), 1u);
  EXPECT_EQ(conversation["replies"][0]["body"], " y. ");
  EXPECT_EQ(conversation["replies"][0]["reply"], "Paid 82.17 for A-c1");
  EXPECT_EQ(conversation["replies"][0]["matched"], "conversation");
  EXPECT_EQ(conversation["address"], "+1217*****01");  // masked without reveal
}

TEST_F(HttpInbound, ReplyAfterExpiryGetsTheKeywordMenu) {
  put_customer("c1");
  post_bill("bill-1");
  engine().intake_once();
  engine().dispatch_once();
  clock_now_.advance(61min);
  auto reply = reply_of(sms("Y", "SM-late"));
  EXPECT_NE(reply.find("Reply BAL"), std::string::npos) << reply;
  EXPECT_EQ(paid_.load(), 0);
  EXPECT_EQ(db_->query_value("SELECT matched FROM herald.inbound_messages"), "menu");
}

TEST_F(HttpInbound, StopBeatsAnOpenConversation) {
  put_customer("c1");
  post_bill("bill-1");
  engine().intake_once();
  engine().dispatch_once();
  ASSERT_EQ(count("herald.conversations WHERE state = 'open'"), "1");
  EXPECT_NE(reply_of(sms("STOP", "SM-stop")).find("unsubscribed"), std::string::npos);
  EXPECT_EQ(count("herald.conversations WHERE state = 'cancelled'"), "1");
  EXPECT_EQ(reply_of(sms("Y", "SM-y")), "");
  EXPECT_EQ(paid_.load(), 0);
}

TEST_F(HttpInbound, TwoAccountsOnOneNumberAskWhichAndTheAnswerCarriesOn) {
  put_customer("c1");
  auto second = customer_body("c2");
  second["accounts"][0]["service_address"]["line1"] = "40 Oak Ave";
  ASSERT_EQ(call("PUT", "/v1/customers/c2", cis_key_, second).status, 200);

  auto ask = reply_of(sms("bal", "SM-bal"));
  EXPECT_EQ(ask, "Springfield Utilities: Which account? Reply 1 for 12 Main St, 2 for 40 Oak Ave.");
  auto answer = reply_of(sms("2", "SM-2"));
  EXPECT_EQ(answer, "Balance for A-c2");
  EXPECT_EQ(count("herald.conversations WHERE state = 'closed'"), "1");
  EXPECT_EQ(db_->query_value("SELECT action FROM herald.inbound_messages WHERE provider_message_id = 'SM-2'"), "choose");
  // With the choice made, a new BAL asks again (nothing is remembered across requests).
  EXPECT_NE(reply_of(sms("BAL", "SM-bal2")).find("Which account?"), std::string::npos);
}

TEST_F(HttpInbound, YesConfirmsANumberAddedOnTheWebElseOptsIn) {
  put_customer("c1");
  auto added = call("POST", "/v1/customers/c1/contacts", customer_token("c1"),
                    Json{{"channel", "sms"}, {"address", "+12175550199"}});
  ASSERT_EQ(added.status, 202) << added.body;
  auto reply = reply_of(sms("Yes!", "SM-yes", "+12175550199"));
  EXPECT_NE(reply.find("confirmed"), std::string::npos) << reply;
  EXPECT_EQ(db_->query_value("SELECT verified::text FROM herald.contacts WHERE address = '+12175550199'"), "true");
  EXPECT_EQ(db_->query_value("SELECT matched FROM herald.inbound_messages"), "contact_confirmed");
  // No verification waits any more: the next YES is an opt-in.
  sms("STOP", "SM-stop", "+12175550199");
  EXPECT_NE(reply_of(sms("YES", "SM-yes2", "+12175550199")).find("subscribed"), std::string::npos);
  EXPECT_EQ(db_->query_value("SELECT consent FROM herald.contacts WHERE address = '+12175550199'"), "opted_in");
}

TEST_F(HttpInbound, InboundListIsMaskedPagedAndFiltered) {
  put_customer("c1", "+12175550101");
  put_customer("c2", "+12175550102");
  sms("HELP", "SM-1", "+12175550101");
  sms("hello", "SM-2", "+12175550102");
  sms("INFO", "SM-3", "+12175550101");

  auto page = call("GET", "/v1/inbound?address=%2B12175550101&limit=1", admin_key_);
  ASSERT_EQ(page.status, 200) << page.body;
  auto j = page.json();
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["body"], "INFO");
  EXPECT_EQ(j["items"][0]["from"], "+1217*****01");
  EXPECT_EQ(j["items"][0]["matched"], "help");
  EXPECT_EQ(j["items"][0]["customer_ids"], Json::array({"c1"}));
  ASSERT_TRUE(j["next_cursor"].is_string());
  auto next = call("GET", "/v1/inbound?address=%2B12175550101&limit=1&cursor=" + j["next_cursor"].get<std::string>(),
                   admin_key_).json();
  ASSERT_EQ(next["items"].size(), 1u);
  EXPECT_EQ(next["items"][0]["body"], "HELP");
  EXPECT_TRUE(next["next_cursor"].is_null());

  auto revealed = call("GET", "/v1/inbound?reveal=1", admin_key_).json();
  EXPECT_EQ(revealed["items"].size(), 3u);
  EXPECT_EQ(revealed["items"][1]["from"], "+12175550102");
  EXPECT_EQ(call("GET", "/v1/inbound", cis_key_).status, 403);
  EXPECT_EQ(call("GET", "/v1/inbound?from=yesterday", admin_key_).status, 422);
}

}  // namespace
}  // namespace herald::test
