// The outage tests' fixture: 1,050 customers on two feeders with a mix of preferences,
// contacts and consent, an engine on an injected clock cutting notices into small chunks.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "herald/domain/outage.hpp"
#include "herald/engine/engine.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/rules/clock.hpp"
#include "herald/source_dir.hpp"
#include "herald/store/outages.hpp"
#include "test_db.hpp"

namespace herald::outage_test {

inline TimePoint at(const char* rfc3339) { return *parse_time(rfc3339); }

// 11:00 in Chicago, where every account of these tests is: sends go out at once.
constexpr const char* kMorning = "2026-11-24T17:00:00Z";
constexpr int kPremises = 1000;

// Who of customer i (1..1000, feeder F-12) hears on which channel: i % 5 == 0 turned outage
// alerts off, i % 5 == 1 chose sms and email, the rest sms; the SMS contact of i % 7 == 0 is
// unverified and i % 11 == 0 opted out; i % 10 == 3 reads Spanish. Customer 1 has a second
// account on the feeder; 1001..1050 are on another feeder.
inline bool hears_sms(int i) { return i % 5 != 0 && i % 7 != 0 && i % 11 != 0; }
inline bool hears_email(int i) { return i % 5 == 1; }

struct OutageFanout : ::testing::Test {
  test::TestDb tdb{6};
  rules::ManualClock clock{at(kMorning)};
  PublicUrls public_urls{"https://herald.example"};
  TokenSecret token_secret{"outage-secret"};
  rules::RulesConfig rules_config = rules::default_rules_config();
  rules::TemplateStore templates{std::string(HERALD_SOURCE_DIR) + "/config/templates"};
  std::unique_ptr<engine::Engine> engine_;

  void SetUp() override {
    rules_config.token_secret = &token_secret;
    rules_config.public_urls = &public_urls;
    tdb.exec(R"SQL(
INSERT INTO herald.customers (customer_id, name, language)
SELECT 'c' || i, 'Customer ' || i, CASE WHEN i % 10 = 3 THEN 'es' ELSE 'en' END FROM generate_series(1, 1050) i;
INSERT INTO herald.accounts (account_id, customer_id, premise_id, service_address, timezone, feeder, zip)
SELECT 'A' || lpad(i::text, 4, '0'), 'c' || i, 'P' || i,
       jsonb_build_object('line1', i || ' Main St', 'city', 'Springfield', 'state', 'IL', 'zip', '62701'),
       'America/Chicago', CASE WHEN i <= 1000 THEN 'F-12' ELSE 'F-99' END, '62701'
FROM generate_series(1, 1050) i;
INSERT INTO herald.accounts (account_id, customer_id, premise_id, service_address, timezone, feeder)
VALUES ('A0001b', 'c1', 'P1b', '{"line1": "9 Elm St"}', 'America/Chicago', 'F-12');
INSERT INTO herald.preferences (customer_id, topics, language)
SELECT 'c' || i, CASE WHEN i % 5 = 0 THEN '{"outage": [], "billing": ["email"]}'
                      WHEN i % 5 = 1 THEN '{"outage": ["sms", "email"]}'
                      ELSE '{"outage": ["sms"]}' END::jsonb,
       CASE WHEN i % 10 = 3 THEN 'es' ELSE 'en' END
FROM generate_series(1, 1050) i;
INSERT INTO herald.contacts (customer_id, channel, address, verified)
SELECT 'c' || i, 'sms', '+1217555' || lpad(i::text, 4, '0'), i % 7 <> 0 FROM generate_series(1, 1050) i;
INSERT INTO herald.contacts (customer_id, channel, address, verified)
SELECT 'c' || i, 'email', 'c' || i || '@example.com', true FROM generate_series(1, 1050) i;
INSERT INTO herald.consent_events (channel, address, state, source)
SELECT 'sms', '+1217555' || lpad(i::text, 4, '0'), 'opted_out', 'sms' FROM generate_series(1, 1050) i WHERE i % 11 = 0;
)SQL");
  }

  engine::Engine& engine() {
    if (!engine_) {
      engine::EngineConfig config;
      config.instance_id = "outage-test";
      config.outages.chunk_accounts = 300;  // several chunks per notice
      gateways::GatewayConfig log{"log", "log", Channel::sms, 1e6, 1e6, {}};
      for (auto channel : kAllChannels) {
        log.channel = channel;
        auto g = gateways::make_gateway(log);
        config.routes[channel].push_back({std::shared_ptr<gateways::Gateway>(std::move(*g)), 1e6, 1e6});
      }
      engine_ = std::make_unique<engine::Engine>(tdb.db(), config, rules_config, templates, clock);
    }
    return *engine_;
  }

  void put(const std::string& id, const Json& body) {
    auto update = parse_outage_update(body, id);
    ASSERT_TRUE(update.ok()) << update.error().message;
    auto stored = store::put_outage(tdb.db(), *update, "test", "api", clock.now());
    ASSERT_TRUE(stored.ok()) << stored.error().message;
  }

  void dispatch_all() {
    while (engine().dispatch_once() > 0) {
    }
  }

  std::string count(const std::string& where) {
    return tdb.query_value("SELECT count(*) FROM herald.messages WHERE " + where);
  }

  static int expected_sms() {
    int n = 1;  // customer 1's second account
    for (int i = 1; i <= kPremises; ++i) n += hears_sms(i);
    return n;
  }
  static int expected_email() {
    int n = 1;
    for (int i = 1; i <= kPremises; ++i) n += hears_email(i);
    return n;
  }

  static Json confirmed(const char* etr = "2026-11-24T23:00:00Z") {
    return {{"status", "confirmed"},
            {"cause", "storm"},
            {"etr", etr},
            {"affected", {{"premise_ids", Json::array()}, {"feeders", {"F-12"}}, {"zips", Json::array()}}}};
  }
};

}  // namespace herald::outage_test
