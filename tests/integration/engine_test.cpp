// Engine against a real Postgres with an injected clock: intake decisions, quiet-hour holds, leases.
#include "herald/engine/engine.hpp"

#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "herald/rules/clock.hpp"
#include "herald/store/customers.hpp"
#include "herald/store/outbox.hpp"
#include "test_db.hpp"
#include "herald/source_dir.hpp"

namespace herald {
namespace {

using namespace std::chrono_literals;

TimePoint at(const char* rfc3339) { return *parse_time(rfc3339); }

Customer chicago_customer() {
  Customer c;
  c.customer_id = "c-1";
  c.name = "Ada Lovelace";
  c.language = "en";
  Account a;
  a.account_id = "A-1";
  a.premise_id = "P-1";
  a.service_address = {"12 Main St", "", "Springfield", "IL", "62701"};
  a.timezone = "America/Chicago";
  c.accounts.push_back(a);
  c.contacts.push_back(Contact{0, Channel::sms, "+12175550101", true, true, ConsentState::opted_in, "cis"});
  c.contacts.push_back(Contact{0, Channel::email, "ada@example.com", true, true, ConsentState::opted_in, "cis"});
  return c;
}

struct EngineTest : ::testing::Test {
  test::TestDb tdb{6};
  rules::ManualClock clock;
  PublicUrls public_urls{"https://herald.example"};
  TokenSecret token_secret{"test-secret"};
  rules::RulesConfig rules_config = rules::default_rules_config();
  rules::TemplateStore templates{std::string(HERALD_SOURCE_DIR) + "/config/templates"};

  void SetUp() override {
    rules_config.token_secret = &token_secret;
    rules_config.public_urls = &public_urls;
    rules_config.default_preferences.topics[Topic::billing] = {Channel::sms, Channel::email};
    auto stored = store::upsert_customer(tdb.db(), chicago_customer(), rules_config.default_preferences, "test", clock.now());
    ASSERT_TRUE(stored.ok()) << stored.error().message;
  }

  std::unique_ptr<engine::Engine> make_engine(const std::string& instance = "test-instance",
                                              const std::function<void(engine::EngineConfig&)>& tweak = {}) {
    engine::EngineConfig config;
    config.instance_id = instance;
    config.dispatch.lease = 30s;
    config.intake.poll_interval = 100ms;
    config.dispatch.poll_interval = 100ms;
    if (tweak) tweak(config);
    gateways::GatewayConfig log{"log", "log", Channel::sms, 1e6, 1e6, {}};
    for (auto channel : kAllChannels) {
      log.channel = channel;
      auto g = gateways::make_gateway(log);
      EXPECT_TRUE(g.ok());
      config.routes[channel].push_back({std::shared_ptr<gateways::Gateway>(std::move(*g)), 1e6, 1e6});
    }
    return std::make_unique<engine::Engine>(tdb.db(), config, rules_config, templates, clock);
  }

  void insert_event(const std::string& id, const std::string& type, const std::string& data = "{}",
                    const std::string& account = "A-1") {
    tdb.exec("INSERT INTO herald.events (event_id, type, account_id, occurred_at, data) VALUES ('" + id + "', '" +
             type + "', '" + account + "', '" + format_time(clock.now()) + "', '" + data + "')");
  }

  // Polls until the query answers `expected` or the deadline passes; returns the last answer.
  std::string wait_for_value(const std::string& sql, const std::string& expected, std::chrono::seconds deadline = 20s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    std::string value = tdb.query_value(sql);
    while (value != expected && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(50ms);
      value = tdb.query_value(sql);
    }
    return value;
  }

  std::string message_field(const std::string& channel, const std::string& expr) {
    return tdb.query_value("SELECT " + expr + " FROM herald.messages WHERE channel = '" + channel + "' ORDER BY id DESC LIMIT 1");
  }
};

TEST_F(EngineTest, QuietHoursHoldAt23LocalAndSendAt08Local) {
  clock.set(at("2026-11-24T05:00:00Z"));  // 23:00 in Chicago (CST, UTC-6)
  insert_event("ev-night", "bill.ready", R"({"amount_due": "82.17", "due_date": "2026-12-10"})");
  auto engine = make_engine();
  EXPECT_EQ(engine->intake_once(), 1u);
  EXPECT_EQ(message_field("sms", "status"), "scheduled");
  EXPECT_EQ(message_field("sms", "to_char(not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"),
            "2026-11-24T14:00:00");  // 08:00 in Chicago
  EXPECT_EQ(message_field("email", "status"), "scheduled");

  EXPECT_EQ(engine->dispatch_once(), 0u);
  clock.set(at("2026-11-24T13:59:59Z"));
  EXPECT_EQ(engine->dispatch_once(), 0u);
  EXPECT_EQ(message_field("sms", "status"), "scheduled");

  clock.set(at("2026-11-24T14:00:00Z"));
  EXPECT_EQ(engine->dispatch_once(), 2u);
  EXPECT_EQ(message_field("sms", "status"), "sent");
  EXPECT_EQ(message_field("email", "status"), "sent");
  EXPECT_EQ(message_field("sms", "to_char(sent_at AT TIME ZONE 'UTC', 'HH24:MI')"), "14:00");
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.message_attempts"), "2");
}

TEST_F(EngineTest, DaytimeEventIsQueuedRenderedAndMarkedProcessed) {
  clock.set(at("2026-11-24T17:00:00Z"));  // 11:00 in Chicago
  insert_event("ev-day", "bill.ready", R"({"amount_due": "82.17", "due_date": "2026-12-10"})");
  auto engine = make_engine();
  EXPECT_EQ(engine->intake_once(), 1u);
  EXPECT_EQ(tdb.query_value("SELECT status FROM herald.events WHERE event_id = 'ev-day'"), "processed");
  EXPECT_EQ(message_field("sms", "status"), "queued");
  const auto body = message_field("sms", "body");
  EXPECT_NE(body.find("82.17"), std::string::npos) << body;
  EXPECT_GT(std::stoi(message_field("sms", "segments")), 0);
  EXPECT_NE(message_field("email", "subject"), "");
  EXPECT_NE(message_field("email", "unsubscribe_url").find("https://herald.example/v1/unsubscribe/"), std::string::npos);
  EXPECT_EQ(engine->dispatch_once(), 2u);
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.messages WHERE status = 'sent'"), "2");
}

TEST_F(EngineTest, DirectInsertWithUnknownTypeOrAccountIsRejectedWithReason) {
  clock.set(at("2026-11-24T17:00:00Z"));
  insert_event("ev-bad-type", "bill.misspelled");
  insert_event("ev-bad-account", "bill.ready", "{}", "A-404");
  auto engine = make_engine();
  EXPECT_EQ(engine->intake_once(), 2u);
  EXPECT_EQ(tdb.query_value("SELECT status || ' ' || (error->>'code') FROM herald.events WHERE event_id = 'ev-bad-type'"),
            "rejected unknown_event_type");
  EXPECT_EQ(tdb.query_value("SELECT status || ' ' || (error->>'field') FROM herald.events WHERE event_id = 'ev-bad-account'"),
            "rejected account_id");
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.messages"), "0");
}

TEST_F(EngineTest, OptedOutNumberIsSuppressedWhileEmailGoes) {
  clock.set(at("2026-11-24T17:00:00Z"));
  tdb.exec("INSERT INTO herald.consent_events (channel, address, state, source) VALUES ('sms', '+12175550101', 'opted_out', 'sms')");
  insert_event("ev-1", "bill.ready", R"({"amount_due": "10.00", "due_date": "2026-12-10"})");
  auto engine = make_engine();
  engine->intake_once();
  EXPECT_EQ(message_field("sms", "status || ' ' || suppression_reason"), "suppressed opted_out");
  EXPECT_EQ(message_field("email", "status"), "queued");
  EXPECT_NE(message_field("sms", "decision::text"), "{}");
}

TEST_F(EngineTest, LapsedLeaseIsReclaimedByAnotherInstance) {
  clock.set(at("2026-11-24T17:00:00Z"));
  insert_event("ev-1", "bill.ready", R"({"amount_due": "10.00", "due_date": "2026-12-10"})");
  auto engine = make_engine();
  engine->intake_once();
  // Instance "crashed" leases both messages and never reports back.
  const auto leased = store::claim_due_messages(tdb.db(), "crashed", 100, clock.now(), 30s);
  ASSERT_EQ(leased.size(), 2u);
  EXPECT_EQ(engine->dispatch_once(), 0u);  // still leased
  clock.set(clock.now() + 31s);
  EXPECT_EQ(engine->dispatch_once(), 2u);
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.messages WHERE status = 'sent'"), "2");
  // The crashed instance's late report changes nothing: the rows are no longer its own.
  store::MessageUpdate late;
  late.id = leased[0].message.id;
  late.status = MessageStatus::failed;
  EXPECT_EQ(store::record_dispatch_results(tdb.db(), "crashed", {late}, clock.now()), 0u);
}

TEST_F(EngineTest, ReleasedLeasesAreDueAtOnce) {
  clock.set(at("2026-11-24T17:00:00Z"));
  insert_event("ev-1", "bill.ready", R"({"amount_due": "10.00", "due_date": "2026-12-10"})");
  auto engine = make_engine();
  engine->intake_once();
  ASSERT_EQ(store::claim_due_messages(tdb.db(), "stopping", 100, clock.now(), 30s).size(), 2u);
  EXPECT_EQ(store::release_leases(tdb.db(), "stopping"), 2u);
  EXPECT_EQ(engine->dispatch_once(), 2u);
}

TEST_F(EngineTest, ExpiredScheduledMessageIsSuppressedAtDispatch) {
  clock.set(at("2026-11-24T17:00:00Z"));
  insert_event("ev-1", "bill.ready", R"({"amount_due": "10.00", "due_date": "2026-12-10"})");
  auto engine = make_engine();
  engine->intake_once();
  tdb.exec("UPDATE herald.messages SET expires_at = '2026-11-24T16:00:00Z'");
  EXPECT_EQ(engine->dispatch_once(), 2u);
  EXPECT_EQ(tdb.query_value("SELECT string_agg(DISTINCT status || ':' || suppression_reason, ',') FROM herald.messages"),
            "suppressed:expired");
}

TEST_F(EngineTest, IntakeWorkersShareABacklogWithoutDoubling) {
  clock.set(at("2026-11-24T17:00:00Z"));
  for (int i = 0; i < 40; ++i) insert_event("ev-" + std::to_string(i), "bill.ready", R"({"amount_due": "10.00", "due_date": "2026-12-10"})");
  auto engine = make_engine("workers", [](engine::EngineConfig& c) {
    c.intake.batch_size = 3;
    c.intake.workers = 3;
    c.dispatch.workers = 0;
  });
  engine->start();
  EXPECT_EQ(wait_for_value("SELECT count(*) FROM herald.events WHERE status = 'processed'", "40"), "40");
  engine->stop();
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.messages"), "80");
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM (SELECT event_seq FROM herald.messages GROUP BY event_seq "
                            "HAVING count(*) = 2) per_event"),
            "40");
}

TEST_F(EngineTest, IntakeOnlyAndDispatchOnlyInstancesSplitTheWork) {
  clock.set(at("2026-11-24T17:00:00Z"));
  auto dispatch_only = make_engine("dispatcher", [](engine::EngineConfig& c) { c.intake.workers = 0; });
  auto intake_only = make_engine("intake", [](engine::EngineConfig& c) { c.dispatch.workers = 0; });
  dispatch_only->start();
  insert_event("ev-1", "bill.ready", R"({"amount_due": "10.00", "due_date": "2026-12-10"})");
  dispatch_only->wake();
  // The dispatch-only instance's round finds nothing to send and leaves the event to an
  // instance that does intake.
  EXPECT_EQ(dispatch_only->dispatch_once(), 0u);
  EXPECT_EQ(tdb.query_value("SELECT status FROM herald.events"), "accepted");
  dispatch_only->stop();

  // The intake-only instance turns the event into messages and sends none of them: they wait
  // for a dispatching instance.
  intake_only->start();
  EXPECT_EQ(wait_for_value("SELECT status FROM herald.events", "processed"), "processed");
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.messages WHERE status = 'queued'"), "2");
  auto next_dispatcher = make_engine("dispatcher-2", [](engine::EngineConfig& c) { c.intake.workers = 0; });
  next_dispatcher->start();
  EXPECT_EQ(wait_for_value("SELECT count(*) FROM herald.messages WHERE status = 'sent'", "2"), "2");
  intake_only->stop();
  next_dispatcher->stop();
}

// Rows this build cannot read. The schema's CHECKs keep unknown channels out of contacts and
// messages, but preferences.topics is free jsonb and messages.topic free text.

TEST_F(EngineTest, UnreadablePreferencesRejectTheirEventsOnlyAndIntakeMovesOn) {
  clock.set(at("2026-11-24T17:00:00Z"));
  auto other = chicago_customer();
  other.customer_id = "c-2";
  other.accounts[0].account_id = "A-2";
  other.contacts[0].address = "+12175550102";
  other.contacts[1].address = "grace@example.com";
  ASSERT_TRUE(store::upsert_customer(tdb.db(), other, rules_config.default_preferences, "test", clock.now()).ok());
  tdb.exec("UPDATE herald.preferences SET topics = '{\"billing\": [\"pager\"]}' WHERE customer_id = 'c-1'");
  insert_event("ev-bad-prefs", "bill.ready", R"({"amount_due": "10.00", "due_date": "2026-12-10"})", "A-1");
  insert_event("ev-good", "bill.ready", R"({"amount_due": "10.00", "due_date": "2026-12-10"})", "A-2");
  auto engine = make_engine();
  EXPECT_EQ(engine->intake_once(), 2u);
  EXPECT_EQ(tdb.query_value("SELECT status || ' ' || (error->>'code') || ' ' || (error->>'field') FROM herald.events "
                            "WHERE event_id = 'ev-bad-prefs'"),
            "rejected unreadable_recipient account_id");
  const auto message = tdb.query_value("SELECT error->>'message' FROM herald.events WHERE event_id = 'ev-bad-prefs'");
  EXPECT_NE(message.find("pager"), std::string::npos) << message;
  EXPECT_EQ(tdb.query_value("SELECT status FROM herald.events WHERE event_id = 'ev-good'"), "processed");
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.messages WHERE customer_id = 'c-1'"), "0");
  EXPECT_NE(tdb.query_value("SELECT count(*) FROM herald.messages WHERE customer_id = 'c-2'"), "0");
  EXPECT_EQ(engine->intake_once(), 0u);  // nothing left behind to be claimed again
}

TEST_F(EngineTest, MessageRowWithAnUnknownTopicFailsWithTheReasonAndTheOthersGo) {
  clock.set(at("2026-11-24T17:00:00Z"));
  insert_event("ev-1", "bill.ready", R"({"amount_due": "10.00", "due_date": "2026-12-10"})");
  auto engine = make_engine();
  ASSERT_EQ(engine->intake_once(), 1u);
  tdb.exec("UPDATE herald.messages SET topic = 'marketing' WHERE channel = 'sms'");
  EXPECT_EQ(engine->dispatch_once(), 2u);
  EXPECT_EQ(message_field("sms", "status"), "failed");
  EXPECT_NE(message_field("sms", "last_error").find("marketing"), std::string::npos) << message_field("sms", "last_error");
  EXPECT_EQ(message_field("sms", "attempts"), "0");
  EXPECT_EQ(message_field("email", "status"), "sent");
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.message_queue"), "0");  // nothing left to wedge the loop
  EXPECT_EQ(engine->dispatch_once(), 0u);
}


}  // namespace
}  // namespace herald
