// The service keywords and reply-to-pay end to end: events through the engine (log gateway), texts
// through the inbound pipeline, actions to the fake CIS over real HTTP, a real Postgres, and an
// injected clock.
#include <gtest/gtest.h>

#include "fake_cis_process.hpp"
#include "herald/engine/engine.hpp"
#include "herald/engine/inbound.hpp"
#include "herald/engine/service_actions.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/rules/clock.hpp"
#include "herald/source_dir.hpp"
#include "herald/store/customers.hpp"
#include "test_db.hpp"
#include "test_zones.hpp"

namespace herald {
namespace {

using namespace std::chrono_literals;
using test::FakeCisProcess;

constexpr const char* kShared = "+12175550101";
constexpr const char* kHerald = "+12175550000";

class ServicesFlows : public ::testing::Test {
 protected:
  // The past-due text goes out four hours before now, where it is daytime then.
  ServicesFlows() : clock_(rules::SystemClock().now() - 4h) {}

  void SetUp() override {
    rules_.public_urls = &public_urls_;
    rules_.token_secret = &token_secret_;
    rules_.utility_name = "Springfield Utilities";
    rules_.utility_phone = "+1 217 555 0100";
    rules_.utility_url = "https://utility.example.com";
    rules_.default_preferences.topics[Topic::billing] = {Channel::sms};
    zone_ = test::daytime_zone(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(clock_.now().time_since_epoch())));
    settings_.utility_name = rules_.utility_name;
    settings_.utility_phone = rules_.utility_phone;
    settings_.utility_url = rules_.utility_url;
  }

  void add_customer(const std::string& id, const std::string& account, const std::string& line1,
                    const std::string& phone = kShared, const std::string& language = "en") {
    Customer c;
    c.customer_id = id;
    c.name = "Customer " + id;
    c.language = language;
    Account a;
    a.account_id = account;
    a.premise_id = "P-" + account;
    a.service_address = {line1, "", "Springfield", "IL", "62701"};
    a.timezone = zone_;
    c.accounts.push_back(a);
    c.contacts.push_back(Contact{0, Channel::sms, phone, true, true, ConsentState::opted_in, "cis"});
    auto stored = store::upsert_customer(t_.db(), c, rules_.default_preferences, "test", clock_.now());
    ASSERT_TRUE(stored.ok()) << stored.error().message;
  }

  // Sends the event's SMS now: one intake round, one dispatch round through the log gateway.
  void send_event(const std::string& id, const std::string& type, const std::string& account, const Json& data) {
    t_.exec("INSERT INTO herald.events (event_id, type, account_id, occurred_at, data) VALUES ('" + id + "', '" +
            type + "', '" + account + "', '" + format_time(clock_.now()) + "', '" + data.dump() + "')");
    auto& e = engine();
    ASSERT_EQ(e.intake_once(), 1u);
    ASSERT_GE(e.dispatch_once(), 1u);
    ASSERT_EQ(t_.query_value("SELECT status FROM herald.messages WHERE event_id = '" + id + "' AND channel = 'sms'"),
              "sent");
  }

  engine::Engine& engine() {
    if (!engine_) {
      engine::EngineConfig config;
      config.instance_id = "services-test";
      gateways::GatewayConfig log{"log", "log", Channel::sms, 1e6, 1e6, {}};
      for (auto channel : kAllChannels) {
        log.channel = channel;
        auto g = gateways::make_gateway(log);
        config.routes[channel].push_back({std::shared_ptr<gateways::Gateway>(std::move(*g)), 1e6, 1e6});
      }
      engine_ = std::make_unique<engine::Engine>(t_.db(), config, rules_, templates_, clock_);
    }
    return *engine_;
  }

  // The pipeline with the service actions, talking to the fake CIS (or to none).
  engine::InboundPipeline& pipeline(bool with_cis = true) {
    if (!pipeline_) {
      engine::CisConfig cis;
      if (with_cis) {
        cis.actions_url = cis_.actions_url();
        cis.secret = FakeCisProcess::kSecret;
        cis.timeout = 2000ms;
        cis.max_attempts = 2;
      }
      engine::register_builtin_actions(actions_);
      engine::register_service_actions(actions_, t_.db(), std::make_shared<engine::CisClient>(t_.db(), cis));
      pipeline_ = std::make_unique<engine::InboundPipeline>(t_.db(), settings_, actions_, clock_);
    }
    return *pipeline_;
  }

  engine::InboundResult text(const std::string& body, const std::string& sid, const std::string& from = kShared,
                             bool with_cis = true) {
    return pipeline(with_cis).handle(engine::InboundSms{"twilio", sid, from, kHerald, body, {}});
  }

  std::string menu() {
    engine::ActionRequest r;
    r.settings = &settings_;
    r.language = "en";
    return engine::texts_for(r).menu;
  }

  test::TestDb t_{6};
  // The clock is moved by hand, so the fake does not compare X-Herald-Timestamp with its own
  // (the CIS client tests check that with the real clock).
  FakeCisProcess cis_{-1};
  rules::ManualClock clock_;
  std::string zone_;
  PublicUrls public_urls_{"https://herald.example"};
  TokenSecret token_secret_{"test-secret"};
  rules::RulesConfig rules_ = rules::default_rules_config();
  rules::TemplateStore templates_{std::string(HERALD_SOURCE_DIR) + "/config/templates"};
  engine::InboundSettings settings_;
  engine::ActionRegistry actions_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<engine::InboundPipeline> pipeline_;
};

const Json kPastDue{{"amount_due", "82.17"}, {"card_last4", "4242"}};

TEST_F(ServicesFlows, PastDueThenYFourHoursLaterChargesOnceThroughARetryAndAReplay) {
  add_customer("C-1", "A-1001", "12 Main St");
  cis_.set_account("A-1001", {{"amount_due", "82.17"}, {"card_last4", "4242"}});
  send_event("ev-past-due", "account.past_due", "A-1001", kPastDue);
  EXPECT_NE(t_.query_value("SELECT body FROM herald.messages WHERE channel = 'sms'")
                .find("Reply Y to pay $82.17 with the card ending 4242"),
            std::string::npos);

  clock_.advance(4h);
  cis_.fail_next(1, "error");  // the first request fails: the client sends it again, same key
  const auto paid = text("y", "SM-y-1");
  EXPECT_NE(paid.reply.find("approved"), std::string::npos) << paid.reply;
  EXPECT_NE(paid.reply.find("PAY-00001"), std::string::npos) << paid.reply;
  EXPECT_NE(paid.reply.find("$82.17"), std::string::npos) << paid.reply;

  const auto replay = text("y", "SM-y-1");  // Twilio retries the webhook
  EXPECT_TRUE(replay.duplicate);
  EXPECT_EQ(replay.reply, paid.reply);

  auto state = cis_.state();
  EXPECT_EQ(state["charge_count"], 1);
  ASSERT_EQ(state["requests"].size(), 2u);
  const auto key = state["requests"][0]["headers"]["idempotency-key"];
  EXPECT_EQ(state["requests"][1]["headers"]["idempotency-key"], key);
  EXPECT_EQ(key.get<std::string>().rfind("conversation-", 0), 0u) << key;
  for (const auto& r : state["requests"]) EXPECT_TRUE(r["signature_ok"].get<bool>()) << r.dump();
  EXPECT_EQ(t_.query_value("SELECT status || ':' || attempts FROM herald.cis_actions WHERE action = 'payment.authorize'"),
            "ok:2");
}

TEST_F(ServicesFlows, YAfterTheConversationExpiredGetsTheKeywordMenu) {
  add_customer("C-1", "A-1001", "12 Main St");
  cis_.set_account("A-1001", {{"amount_due", "82.17"}, {"card_last4", "4242"}});
  send_event("ev-past-due", "account.past_due", "A-1001", kPastDue);
  clock_.advance(rules_.conversations.at("account.past_due").ttl + 1min);
  const auto late = text("Y", "SM-late");
  EXPECT_EQ(late.reply, menu());
  EXPECT_EQ(cis_.state()["requests"].size(), 0u);
}

TEST_F(ServicesFlows, CisDownAnswersClearlyAndYAgainPaysOnceWithTheSameKey) {
  add_customer("C-1", "A-1001", "12 Main St");
  cis_.set_account("A-1001", {{"amount_due", "82.17"}, {"card_last4", "4242"}});
  send_event("ev-past-due", "account.past_due", "A-1001", kPastDue);
  clock_.advance(1h);
  cis_.set_down(true);
  const auto down = text("Y", "SM-down");
  EXPECT_NE(down.reply.find("We couldn't process that right now"), std::string::npos) << down.reply;
  EXPECT_EQ(t_.query_value("SELECT error FROM herald.inbound_messages WHERE provider_message_id = 'SM-down'"),
            "cis: http_503 CIS maintenance");

  cis_.set_down(false);
  const auto paid = text("Y", "SM-again");
  EXPECT_NE(paid.reply.find("approved"), std::string::npos) << paid.reply;
  const auto state = cis_.state();
  EXPECT_EQ(state["charge_count"], 1);
  for (const auto& r : state["requests"])
    EXPECT_EQ(r["headers"]["idempotency-key"], state["requests"][0]["headers"]["idempotency-key"]);
}

TEST_F(ServicesFlows, SharedNumberOutAsksWhichPremiseAndTwoReportsForTheSecond) {
  add_customer("C-1", "A-1001", "12 Main St");
  add_customer("C-2", "A-2002", "40 Oak Ave");
  const auto ask = text("OUT", "SM-out");
  EXPECT_NE(ask.reply.find("1 for 12 Main St"), std::string::npos) << ask.reply;
  EXPECT_NE(ask.reply.find("2 for 40 Oak Ave"), std::string::npos) << ask.reply;
  EXPECT_EQ(t_.query_value("SELECT count(*) FROM herald.outage_reports"), "0");

  const auto filed = text("2", "SM-two");
  EXPECT_NE(filed.reply.find("40 Oak Ave"), std::string::npos) << filed.reply;
  const auto report = t_.query_value("SELECT report_id FROM herald.outage_reports");
  EXPECT_NE(filed.reply.find(report), std::string::npos) << filed.reply;
  EXPECT_EQ(t_.query_value("SELECT account_id || ':' || premise_id || ':' || source || ':' || inbound_id"
                           " FROM herald.outage_reports"),
            "A-2002:P-A-2002:sms:" + std::to_string(filed.inbound_id));
}

TEST_F(ServicesFlows, BalanceFromTheCis) {
  add_customer("C-1", "A-1001", "12 Main St");
  cis_.set_account("A-1001", {{"amount_due", "1234.5"}, {"due_date", "2026-12-10"}});
  const auto r = text("BAL", "SM-bal");
  EXPECT_NE(r.reply.find("$1,234.50"), std::string::npos) << r.reply;
  EXPECT_NE(r.reply.find("December 10, 2026"), std::string::npos) << r.reply;
  EXPECT_NE(r.reply.find("****1001"), std::string::npos) << r.reply;
  EXPECT_EQ(cis_.state()["requests"][0]["body"]["action"], "balance.lookup");
}

TEST_F(ServicesFlows, BalanceWithoutACisFromTheLatestBill) {
  add_customer("C-1", "A-1001", "12 Main St");
  send_event("ev-bill-1", "bill.ready", "A-1001", {{"amount_due", "45.10"}, {"due_date", "2026-11-20"}});
  clock_.advance(1h);
  send_event("ev-bill-2", "bill.ready", "A-1001", {{"amount_due", "61.25"}, {"due_date", "2026-12-20"}});
  const auto r = text("BAL", "SM-bal", kShared, /*with_cis=*/false);
  EXPECT_NE(r.reply.find("$61.25"), std::string::npos) << r.reply;
  EXPECT_NE(r.reply.find("December 20, 2026"), std::string::npos) << r.reply;
  EXPECT_EQ(cis_.state()["requests"].size(), 0u);
}

TEST_F(ServicesFlows, BalanceInSpanishForASpanishCustomer) {
  add_customer("C-1", "A-1001", "12 Main St", kShared, "es");
  cis_.set_account("A-1001", {{"amount_due", "82.17"}, {"due_date", "2026-12-10"}});
  const auto r = text("SALDO", "SM-saldo");
  EXPECT_NE(r.reply.find("saldo de $82.17"), std::string::npos) << r.reply;
  EXPECT_NE(r.reply.find("10 de diciembre de 2026"), std::string::npos) << r.reply;
}

TEST_F(ServicesFlows, CisDownAnswersBalanceClearly) {
  add_customer("C-1", "A-1001", "12 Main St");
  cis_.set_down(true);
  const auto r = text("BAL", "SM-bal");
  EXPECT_NE(r.reply.find("We couldn't process that right now"), std::string::npos) << r.reply;
}

TEST_F(ServicesFlows, PayAsksForConfirmationThenCharges) {
  add_customer("C-1", "A-1001", "12 Main St");
  cis_.set_account("A-1001", {{"amount_due", "82.17"}, {"card_last4", "4242"}});
  const auto ask = text("PAY", "SM-pay");
  EXPECT_NE(ask.reply.find("Reply Y to pay $82.17 with the card ending 4242"), std::string::npos) << ask.reply;
  EXPECT_EQ(cis_.state()["charge_count"], 0);
  const auto paid = text("Y", "SM-pay-y");
  EXPECT_NE(paid.reply.find("approved"), std::string::npos) << paid.reply;
  EXPECT_EQ(cis_.state()["charge_count"], 1);
}

TEST_F(ServicesFlows, PaymentWithoutACisIsUnavailable) {
  add_customer("C-1", "A-1001", "12 Main St");
  const auto r = text("PAY", "SM-pay", kShared, /*with_cis=*/false);
  EXPECT_NE(r.reply.find("Payment by text is not available"), std::string::npos) << r.reply;
}

TEST_F(ServicesFlows, StatusSaysNoKnownOutageAtThePremise) {
  add_customer("C-1", "A-1001", "12 Main St");
  const auto r = text("STATUS", "SM-status");
  EXPECT_NE(r.reply.find("no known outage at 12 Main St"), std::string::npos) << r.reply;
}

TEST_F(ServicesFlows, RegisterANewNumberAgainstHeraldsAccountsWithoutACis) {
  add_customer("C-1", "A-1001", "12 Main St");
  const std::string number = "+12175550199";
  const auto ask = text("REG", "SM-reg", number, /*with_cis=*/false);
  EXPECT_NE(ask.reply.find("account number and service ZIP"), std::string::npos) << ask.reply;
  const auto wrong = text("A-1001 99999", "SM-reg-wrong", number, false);
  EXPECT_NE(wrong.reply.find("could not find"), std::string::npos) << wrong.reply;

  text("REG", "SM-reg-2", number, false);
  const auto done = text("A-1001 62701", "SM-reg-ok", number, false);
  EXPECT_NE(done.reply.find("12 Main St"), std::string::npos) << done.reply;
  EXPECT_EQ(t_.query_value("SELECT customer_id || ':' || verified || ':' || source || ':' || consent"
                           " FROM herald.contacts WHERE address = '" + number + "'"),
            "C-1:true:sms:opted_in");
  EXPECT_EQ(t_.query_value("SELECT source || ':' || evidence FROM herald.consent_events WHERE address = '" + number +
                           "' ORDER BY id DESC LIMIT 1"),
            "sms:inbound:" + std::to_string(done.inbound_id));
  // The number now has the account: BAL answers for it.
  EXPECT_NE(text("BAL", "SM-bal", number, false).reply.find("****1001"), std::string::npos);
}

TEST_F(ServicesFlows, RegisterVerifiedByTheCis) {
  add_customer("C-1", "A-1001", "12 Main St");
  cis_.set_account("A-1001", {{"zip", "62701"}});
  const std::string number = "+12175550199";
  text("REG", "SM-reg", number);
  const auto done = text("62701 A-1001", "SM-reg-ok", number);
  EXPECT_NE(done.reply.find("****1001"), std::string::npos) << done.reply;
  EXPECT_EQ(cis_.state()["requests"][0]["body"]["action"], "registration.lookup");
  EXPECT_EQ(t_.query_value("SELECT count(*) FROM herald.contacts WHERE address = '" + number + "' AND verified"), "1");
}

}  // namespace
}  // namespace herald
