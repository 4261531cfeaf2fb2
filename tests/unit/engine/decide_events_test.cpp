// decide_events: claimed events and their recipients in, messages (each with its explanation) or rejections out.
#include <filesystem>

#include <gtest/gtest.h>

#include "herald/engine/intake.hpp"
#include "herald/source_dir.hpp"

namespace herald::engine {
namespace {

// 18:00 UTC: noon in Chicago, the recipient's zone (time is injected: decide_events is pure).
const TimePoint kNoon = *parse_time("2026-11-20T18:00:00Z");

const rules::TemplateStore& shipped_templates() {
  static const rules::TemplateStore store(std::filesystem::path(HERALD_SOURCE_DIR) / "config" / "templates");
  return store;
}

struct DecideEvents : ::testing::Test {
  PublicUrls public_urls{"https://herald.example"};
  TokenSecret token_secret{"test-secret"};
  rules::RulesConfig rules = rules::default_rules_config();
  store::RecipientContexts recipients;

  DecideEvents() {
    rules.token_secret = &token_secret;
    rules.public_urls = &public_urls;
    rules.default_preferences.topics[Topic::billing] = {Channel::email};
    RecipientContext r;
    r.customer.customer_id = "C-1";
    r.customer.name = "Ada Lovelace";
    r.account.account_id = "A-1";
    r.account.timezone = "America/Chicago";
    r.preferences_stored = true;
    r.preferences.topics[Topic::billing] = {Channel::sms, Channel::email};
    r.contacts = {Contact{11, Channel::sms, "+12175550101", true, true, ConsentState::opted_in, "cis"},
                  Contact{12, Channel::email, "ada@example.com", true, true, ConsentState::opted_in, "cis"}};
    r.customer.contacts = r.contacts;
    recipients.emplace("A-1", r);
  }

  static Event bill(std::int64_t seq, std::string account = "A-1") {
    Event e;
    e.seq = seq;
    e.event_id = "ev-" + std::to_string(seq);
    e.type = "bill.ready";
    e.account_id = std::move(account);
    e.occurred_at = kNoon;
    e.data = {{"amount_due", "82.17"}, {"due_date", "2026-12-10"}};
    return e;
  }

  std::vector<store::EventOutcome> run(const std::vector<Event>& events) const {
    return decide_events(events, recipients, rules, shipped_templates(), kNoon);
  }

  static const Message* on(const store::EventOutcome& o, Channel c) {
    for (const auto& m : o.messages)
      if (m.channel == c && m.status != MessageStatus::suppressed) return &m;
    return nullptr;
  }
};

TEST_F(DecideEvents, EachMessageCarriesItsEventRecipientAndTheRulesExplanation) {
  const auto out = run({bill(7)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].seq, 7);
  EXPECT_FALSE(out[0].rejection);
  const auto decisions = rules::decide(bill(7), recipients.at("A-1"), rules, shipped_templates(), kNoon);
  ASSERT_EQ(out[0].messages.size(), decisions.size());
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const auto& m = out[0].messages[i];
    EXPECT_EQ(m.event_seq, 7);
    EXPECT_EQ(m.event_id, "ev-7");
    EXPECT_EQ(m.customer_id, "C-1");
    EXPECT_EQ(m.account_id, "A-1");
    EXPECT_EQ(m.type, "bill.ready");
    EXPECT_EQ(m.topic, Topic::billing);
    EXPECT_EQ(m.channel, decisions[i].channel);
    EXPECT_EQ(m.status, decisions[i].status);
    EXPECT_FALSE(m.decision.empty());
    EXPECT_EQ(m.decision, decisions[i].explanation) << "message " << i;
  }
  const auto* sms = on(out[0], Channel::sms);
  ASSERT_NE(sms, nullptr);
  EXPECT_EQ(sms->contact_id, 11);
  EXPECT_EQ(sms->address, "+12175550101");
  EXPECT_EQ(sms->status, MessageStatus::queued);
  EXPECT_NE(sms->body.find("82.17"), std::string::npos) << sms->body;
}

TEST_F(DecideEvents, RecipientWithoutStoredPreferencesGetsTheConfiguredDefaults) {
  recipients.at("A-1").preferences_stored = false;  // the stored sms + email is not what counts
  const auto out = run({bill(1)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(on(out[0], Channel::email), nullptr);
  EXPECT_EQ(on(out[0], Channel::sms), nullptr);
}

TEST_F(DecideEvents, UnknownTypeMissingAccountAndNonObjectDataAreRejectedNamingTheField) {
  auto unknown_type = bill(1);
  unknown_type.type = "bill.misspelled";
  auto no_data = bill(3);
  no_data.data = Json::array();
  const auto out = run({unknown_type, bill(2, "A-404"), no_data, bill(4, "")});
  ASSERT_EQ(out.size(), 4u);
  const char* fields[] = {"type", "account_id", "data", "account_id"};
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].seq, static_cast<std::int64_t>(i + 1));
    ASSERT_TRUE(out[i].rejection) << i;
    EXPECT_EQ(out[i].rejection->field, fields[i]);
    EXPECT_TRUE(out[i].messages.empty());
  }
  EXPECT_EQ(out[0].rejection->code, "unknown_event_type");
  EXPECT_EQ(out[1].rejection->code, "unknown_account");
}

TEST_F(DecideEvents, ARejectedEventDoesNotStopTheOthersInTheBatch) {
  auto bad = bill(1);
  bad.type = "nope";
  const auto out = run({bad, bill(2)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].rejection);
  EXPECT_FALSE(out[1].rejection);
  EXPECT_FALSE(out[1].messages.empty());
}

}  // namespace
}  // namespace herald::engine
