// The rules engine: which channels get a message, which are suppressed and why, and when.
#include "herald/rules/decide.hpp"

#include <gtest/gtest.h>

#include "herald/domain/signed_token.hpp"
#include "test_time.hpp"
#include "herald/source_dir.hpp"

namespace herald::rules {
namespace {

using test::utc;

const TemplateStore& shipped_templates() {
  static const TemplateStore store(std::filesystem::path(HERALD_SOURCE_DIR) / "config" / "templates");
  return store;
}

Contact contact(std::int64_t id, Channel channel, std::string address) {
  Contact c;
  c.id = id;
  c.channel = channel;
  c.address = std::move(address);
  c.verified = true;
  return c;
}

class Decide : public ::testing::Test {
 protected:
  Decide() {
    cfg_ = default_rules_config();
    cfg_.utility_name = "City Water";
    cfg_.public_urls = &urls_;
    cfg_.token_secret = &secret_;
    r_.customer.customer_id = "C-1";
    r_.customer.name = "Ada Lovelace";
    r_.account.account_id = "A-1001";
    r_.account.timezone = "America/Chicago";
    r_.account.service_address = {"12 Main St", "", "Springfield", "IL", "62701"};
    r_.preferences.topics[Topic::billing] = {Channel::sms, Channel::email};
    r_.preferences.topics[Topic::other] = {Channel::email};
    r_.contacts = {contact(1, Channel::sms, "+12175550101"), contact(2, Channel::email, "ada@example.com"),
                   contact(3, Channel::voice, "+12175550101")};
    bill_.event_id = "cis-8812";
    bill_.type = "bill.ready";
    bill_.account_id = "A-1001";
    bill_.occurred_at = kNoon;
    bill_.data = {{"amount_due", "82.17"}, {"due_date", "2026-12-10"}, {"bill_url", "https://pay.example.com/b?x=1&y=2"}};
  }

  std::vector<Decision> run(const Event& e, TimePoint now) const {
    return decide(e, r_, cfg_, shipped_templates(), now);
  }
  static Decision on(const std::vector<Decision>& ds, Channel c) {  // a copy: callers pass temporaries
    for (const Decision& d : ds) {
      if (d.channel == c) return d;
    }
    throw std::runtime_error("no decision for " + std::string(to_string(c)));
  }
  static bool has(const std::vector<Decision>& ds, Channel c) {
    return std::any_of(ds.begin(), ds.end(), [&](const Decision& d) { return d.channel == c; });
  }

  static inline const TimePoint kNoon = utc(2026, 11, 20, 18);       // 12:00 CST
  static inline const TimePoint kLate = utc(2026, 11, 21, 5);        // 23:00 CST Nov 20
  static inline const TimePoint kNextOpening = utc(2026, 11, 21, 14);  // 08:00 CST Nov 21
  PublicUrls urls_{"https://herald.example.com"};
  TokenSecret secret_{"test-secret"};
  RulesConfig cfg_;
  RecipientContext r_;
  Event bill_;
};

TEST_F(Decide, BillReadyAtNoonGoesNowOnTheChosenChannels) {
  auto ds = run(bill_, kNoon);
  ASSERT_EQ(ds.size(), 2u);
  const Decision& sms = on(ds, Channel::sms);
  EXPECT_EQ(sms.status, MessageStatus::queued);
  EXPECT_EQ(sms.not_before, kNoon);
  ASSERT_TRUE(sms.contact);
  EXPECT_EQ(sms.contact->id, 1);
  EXPECT_EQ(sms.body,
            "City Water: Your bill for account ****1001 is ready. Amount due: $82.17, due December 10, 2026. "
            "View: https://pay.example.com/b?x=1&y=2 Reply STOP to opt out.");
  EXPECT_EQ(sms.encoding, "GSM-7");
  EXPECT_EQ(sms.segments, 1);
  EXPECT_EQ(sms.language, "en");
  const Decision& email = on(ds, Channel::email);
  EXPECT_EQ(email.status, MessageStatus::queued);
  EXPECT_EQ(email.subject, "Your City Water bill is ready: $82.17 due December 10, 2026");
  EXPECT_NE(email.body.find("Hello Ada,"), std::string::npos);
  EXPECT_NE(email.body.find("View your bill: https://pay.example.com/b?x=1&y=2"), std::string::npos);
  EXPECT_NE(email.html.find("href=\"https://pay.example.com/b?x=1&amp;y=2\""), std::string::npos);
  EXPECT_EQ(email.segments, 0);
  // Voice has a contact but billing by voice is off: nothing to say about it.
  EXPECT_FALSE(has(ds, Channel::voice));
}

TEST_F(Decide, ExpiryIsOccurredAtPlusTtl) {
  auto ds = run(bill_, kNoon);
  ASSERT_TRUE(on(ds, Channel::sms).expires_at);
  EXPECT_EQ(*on(ds, Channel::sms).expires_at, kNoon + cfg_.types.at("bill.ready").ttl);
}

TEST_F(Decide, ChannelNeitherChosenNorReachableGetsNoDecision) {
  r_.contacts.pop_back();  // no voice contact
  auto ds = run(bill_, kNoon);
  EXPECT_EQ(ds.size(), 2u);
  EXPECT_FALSE(has(ds, Channel::voice));
}

TEST_F(Decide, UnchosenChannelsGetNoDecisionEvenWhenSomeChosenOneIsSuppressed) {
  r_.preferences.topics[Topic::billing] = {Channel::sms};
  r_.contacts[0].consent = ConsentState::opted_out;
  auto ds = run(bill_, kNoon);
  ASSERT_EQ(ds.size(), 1u);  // not email, not voice, though both have contacts
  EXPECT_EQ(ds[0].channel, Channel::sms);
  EXPECT_EQ(ds[0].suppression_reason, "opted_out");
}

TEST_F(Decide, TopicSwitchedOffEntirelyRecordsOnePreferenceOff) {
  r_.preferences.topics[Topic::billing].clear();
  auto ds = run(bill_, kNoon);
  ASSERT_EQ(ds.size(), 1u);
  const Decision& d = ds[0];
  EXPECT_EQ(d.status, MessageStatus::suppressed);
  EXPECT_EQ(d.suppression_reason, "preference_off");
  EXPECT_EQ(d.channel, Channel::sms);  // the first channel with a contact
  ASSERT_TRUE(d.contact);
  EXPECT_EQ(d.contact->id, 1);
  EXPECT_EQ(d.explanation["chosen_by"], "none");
  EXPECT_EQ(d.explanation["reason"], "preference_off");
  EXPECT_TRUE(d.body.empty());
  // Reachable only by email: the row names email; reachable nowhere: still one row.
  r_.contacts = {contact(2, Channel::email, "ada@example.com")};
  ds = run(bill_, kNoon);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].channel, Channel::email);
  r_.contacts.clear();
  ds = run(bill_, kNoon);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].suppression_reason, "preference_off");
  EXPECT_FALSE(ds[0].contact);
}

TEST_F(Decide, ChosenChannelWithoutAVerifiedContactIsNoContact) {
  r_.preferences.topics[Topic::billing].insert(Channel::voice);
  r_.contacts[2].verified = false;
  auto ds = run(bill_, kNoon);
  const Decision& voice = on(ds, Channel::voice);
  EXPECT_EQ(voice.status, MessageStatus::suppressed);
  EXPECT_EQ(voice.suppression_reason, "no_contact");
  EXPECT_FALSE(voice.contact);
  r_.contacts[2].verified = true;
  r_.contacts[2].active = false;
  EXPECT_EQ(on(run(bill_, kNoon), Channel::voice).suppression_reason, "no_contact");
}

TEST_F(Decide, OptedOutContactIsSuppressed) {
  r_.contacts[0].consent = ConsentState::opted_out;
  auto ds = run(bill_, kNoon);
  const Decision& sms = on(ds, Channel::sms);
  EXPECT_EQ(sms.status, MessageStatus::suppressed);
  EXPECT_EQ(sms.suppression_reason, "opted_out");
  EXPECT_EQ(sms.contact->id, 1);
  EXPECT_EQ(on(ds, Channel::email).status, MessageStatus::queued);
}

TEST_F(Decide, AnOptedInContactIsPreferredOverAnOptedOutOne) {
  r_.contacts[0].consent = ConsentState::opted_out;
  r_.contacts.push_back(contact(9, Channel::sms, "+12175550199"));
  const Decision& sms = on(run(bill_, kNoon), Channel::sms);
  EXPECT_EQ(sms.status, MessageStatus::queued);
  EXPECT_EQ(sms.contact->id, 9);
}

TEST_F(Decide, TypeWithoutTemplatesIsNoTemplate) {
  EventTypeRule custom;
  custom.type = "custom.thing";
  custom.topic = Topic::billing;
  cfg_.types[custom.type] = custom;
  Event e = bill_;
  e.type = "custom.thing";
  auto ds = run(e, kNoon);
  EXPECT_EQ(on(ds, Channel::sms).suppression_reason, "no_template");
  EXPECT_EQ(on(ds, Channel::email).suppression_reason, "no_template");
  EXPECT_FALSE(on(ds, Channel::sms).explanation["template_error"].get<std::string>().empty());
}

TEST_F(Decide, UnknownEventTypeYieldsNoDecisions) {
  Event e = bill_;
  e.type = "no.such.type";
  EXPECT_TRUE(run(e, kNoon).empty());
}

TEST_F(Decide, QuietHoursHoldUntil0800Local) {
  Event e = bill_;
  e.occurred_at = kLate;
  auto ds = run(e, kLate);
  for (Channel c : {Channel::sms, Channel::email}) {
    const Decision& d = on(ds, c);
    EXPECT_EQ(d.status, MessageStatus::scheduled);
    EXPECT_EQ(d.not_before, kNextOpening);
    EXPECT_EQ(d.explanation["reason"], "held_until_allowed_time");
    EXPECT_EQ(d.explanation["local_time"], "2026-11-20T23:00:00-06:00");
    EXPECT_EQ(d.explanation["send_at_local"], "2026-11-21T08:00:00-06:00");
    EXPECT_EQ(d.explanation["quiet_hours"], Json::parse(R"({"enabled": true, "start": "21:00", "end": "08:00"})"));
    EXPECT_EQ(d.explanation["window"], Json::parse(R"({"start": "08:00", "end": "21:00"})"));
    EXPECT_EQ(d.explanation["chosen_by"], "preference");
  }
}

// A call at 23:00 wakes people: voice waits for the morning like texts, unless the type is urgent
// (UrgentTypeOverridesQuietHours calls at once).
TEST_F(Decide, VoiceCallsHoldForQuietHoursToo) {
  r_.preferences.topics[Topic::billing] = {Channel::voice};
  Event e = bill_;
  e.occurred_at = kLate;
  const Decision& call = on(run(e, kLate), Channel::voice);
  EXPECT_EQ(call.status, MessageStatus::scheduled);
  EXPECT_EQ(call.not_before, kNextOpening);
  EXPECT_EQ(call.explanation["reason"], "held_until_allowed_time");
  EXPECT_FALSE(call.body.empty());
  EXPECT_EQ(on(run(bill_, kNoon), Channel::voice).status, MessageStatus::queued);
}

TEST_F(Decide, DisabledQuietHoursStillWaitForTheWindow) {
  r_.preferences.quiet_hours.enabled = false;
  const Decision& sms = on(run(bill_, kLate), Channel::sms);
  EXPECT_EQ(sms.status, MessageStatus::scheduled);
  EXPECT_EQ(sms.not_before, kNextOpening);
}

TEST_F(Decide, UrgentTypeOverridesQuietHours) {
  r_.preferences.topics[Topic::other] = {Channel::sms, Channel::voice};
  Event leak = bill_;
  leak.type = "leak.detected";
  leak.occurred_at = kLate;
  leak.data = {{"detected_at", "2026-11-21T04:30:00Z"}};
  auto ds = run(leak, kLate);
  const Decision& sms = on(ds, Channel::sms);
  EXPECT_EQ(sms.status, MessageStatus::queued);
  EXPECT_EQ(sms.not_before, kLate);
  EXPECT_TRUE(sms.urgent);
  EXPECT_EQ(sms.explanation["rule"]["urgent"], true);
  EXPECT_NE(sms.body.find("since November 20, 2026 at 10:30 PM CST"), std::string::npos) << sms.body;
  EXPECT_EQ(on(ds, Channel::voice).status, MessageStatus::queued);
  EXPECT_FALSE(has(ds, Channel::email));
}

TEST_F(Decide, DueSoonHeldPastTheDueDateIsExpired) {
  Event due = bill_;
  due.type = "bill.due_soon";
  due.data["due_date"] = "2026-11-20";  // today in Chicago; the window reopens tomorrow
  due.occurred_at = kLate;
  auto ds = run(due, kLate);
  const Decision& sms = on(ds, Channel::sms);
  EXPECT_EQ(sms.status, MessageStatus::suppressed);
  EXPECT_EQ(sms.suppression_reason, "expired");
  EXPECT_EQ(*sms.expires_at, utc(2026, 11, 21, 6));  // midnight after Nov 20, CST
  EXPECT_EQ(sms.explanation["reason"], "expired");
  // Earlier the same day it goes out, and still expires at the end of the due date.
  const Decision& noon = on(run(due, kNoon), Channel::sms);
  EXPECT_EQ(noon.status, MessageStatus::queued);
  EXPECT_EQ(*noon.expires_at, utc(2026, 11, 21, 6));
}

TEST_F(Decide, EventOlderThanItsTtlIsExpired) {
  Event old = bill_;
  old.type = "payment.received";
  old.data = {{"amount", "82.17"}};
  old.occurred_at = kNoon - std::chrono::hours(73);
  EXPECT_EQ(on(run(old, kNoon), Channel::sms).suppression_reason, "expired");
  old.occurred_at = kNoon - std::chrono::hours(71);
  EXPECT_EQ(on(run(old, kNoon), Channel::sms).status, MessageStatus::queued);
}

TEST_F(Decide, UnsetOccurredAtCountsFromNow) {
  Event e = bill_;
  e.occurred_at = TimePoint{};
  const Decision& sms = on(run(e, kNoon), Channel::sms);
  EXPECT_EQ(sms.status, MessageStatus::queued);
  EXPECT_EQ(*sms.expires_at, kNoon + cfg_.types.at("bill.ready").ttl);
}

TEST_F(Decide, SpanishRecipientGetsSpanishWithEnglishFallback) {
  r_.preferences.language = "es";
  auto ds = run(bill_, kNoon);
  const Decision& sms = on(ds, Channel::sms);
  EXPECT_EQ(sms.language, "es");
  EXPECT_EQ(sms.body,
            "City Water: Su factura de la cuenta ****1001 está lista. Total: $82.17, vence el 10 de diciembre de 2026. "
            "Véala: https://pay.example.com/b?x=1&y=2 Responda STOP para cancelar.");
  EXPECT_EQ(sms.encoding, "UCS-2");  // á and é: á has no GSM code
  EXPECT_EQ(on(ds, Channel::email).subject, "Su factura de City Water está lista: $82.17, vence el 10 de diciembre de 2026");
  Event past_due = bill_;
  past_due.type = "account.past_due";
  const Decision& es = on(run(past_due, kNoon), Channel::sms);
  EXPECT_EQ(es.language, "es");
  EXPECT_TRUE(es.body.ends_with("Responda STOP para cancelar.")) << es.body;
  // A type with no Spanish template (a utility's own, say) goes out in English, and the decision
  // records the language actually used.
  TemplateStore english_only;
  english_only.add("en", "bill.ready", Channel::sms, "", "City Water: your bill is ready. Reply STOP to opt out.");
  english_only.add("en", "bill.ready", Channel::email, "subject", "Your bill");
  english_only.add("en", "bill.ready", Channel::email, "txt", "Your bill is ready.");
  const Decision& en = on(decide(bill_, r_, cfg_, english_only, kNoon), Channel::sms);
  EXPECT_EQ(en.status, MessageStatus::queued);
  EXPECT_EQ(en.language, "en");
  EXPECT_EQ(en.body, "City Water: your bill is ready. Reply STOP to opt out.");
}

TEST_F(Decide, LanguageComesFromTheCustomerUntilPreferencesAreStored) {
  r_.preferences_stored = false;
  r_.preferences.language = "en";
  r_.customer.language = "es";
  EXPECT_EQ(on(run(bill_, kNoon), Channel::sms).language, "es");
  r_.account.language = "en";
  EXPECT_EQ(on(run(bill_, kNoon), Channel::sms).language, "en");
  r_.preferences_stored = true;
  r_.preferences.language = "es";
  EXPECT_EQ(on(run(bill_, kNoon), Channel::sms).language, "es");
}

TEST_F(Decide, EmailCarriesAVerifiableUnsubscribeLink) {
  const Decision& email = on(run(bill_, kNoon), Channel::email);
  const std::string prefix = "https://herald.example.com/v1/unsubscribe/";
  ASSERT_TRUE(email.unsubscribe_url.starts_with(prefix)) << email.unsubscribe_url;
  auto claims = verify_token(email.unsubscribe_url.substr(prefix.size()), "test-secret", kNoon + Seconds(60));
  ASSERT_TRUE(claims);
  EXPECT_EQ((*claims)["c"], 2);
  EXPECT_EQ((*claims)["ch"], "email");
  EXPECT_EQ((*claims)["a"], "ada@example.com");
  EXPECT_EQ((*claims)["t"], "billing");
  EXPECT_EQ((*claims)["exp"], to_unix_seconds(kNoon + cfg_.unsubscribe_token_ttl));
  EXPECT_FALSE(verify_token(email.unsubscribe_url.substr(prefix.size()), "other-secret", kNoon));
  EXPECT_NE(email.body.find(email.unsubscribe_url), std::string::npos);
  EXPECT_NE(email.html.find(email.unsubscribe_url), std::string::npos);
  EXPECT_TRUE(on(run(bill_, kNoon), Channel::sms).unsubscribe_url.empty());
}

TEST_F(Decide, RegulatoryNoticeIgnoresPreferenceOffButNotOptOut) {
  r_.preferences.topics.clear();
  Event notice = bill_;
  notice.type = "disconnection.scheduled";
  notice.data = {{"disconnection_date", "2026-12-01"}, {"amount_due", "310.40"}};
  auto ds = run(notice, kNoon);
  const Decision& sms = on(ds, Channel::sms);
  EXPECT_EQ(sms.status, MessageStatus::queued);
  EXPECT_EQ(sms.explanation["chosen_by"], "regulation");
  EXPECT_EQ(sms.priority, 2);
  EXPECT_NE(sms.body.find("December 1, 2026"), std::string::npos);
  EXPECT_EQ(on(ds, Channel::email).status, MessageStatus::queued);
  // Voice is not a regulatory channel by default: the preference still decides, and with the
  // notice going out elsewhere there is no preference_off row.
  EXPECT_EQ(ds.size(), 2u);
  EXPECT_FALSE(has(ds, Channel::voice));
  r_.contacts[0].consent = ConsentState::opted_out;
  EXPECT_EQ(on(run(notice, kNoon), Channel::sms).suppression_reason, "opted_out");
}

TEST_F(Decide, UnknownTimeZoneIsSuppressedNotSentAtTheWrongHour) {
  r_.account.timezone = "Mars/Olympus_Mons";
  const Decision& sms = on(run(bill_, kNoon), Channel::sms);
  EXPECT_EQ(sms.status, MessageStatus::suppressed);
  EXPECT_EQ(sms.suppression_reason, "invalid_timezone");
}

TEST_F(Decide, ExplanationRecordsWhatTheMessageColumnsDoNot) {
  const Decision& sms = on(run(bill_, kNoon), Channel::sms);
  // Type, topic, channel, language, contact and times are the message's own columns; the
  // explanation adds why this channel and the local time that was judged, nothing more.
  EXPECT_EQ(sms.explanation, Json::parse(R"({"chosen_by": "preference", "time_zone": "America/Chicago",
      "local_time": "2026-11-20T12:00:00-06:00", "consent": "opted_in", "reason": "send_now"})"));
  // A held message says which hours held it.
  const Decision& held = on(run(bill_, kLate), Channel::sms);
  EXPECT_EQ(held.explanation["send_at_local"], "2026-11-21T08:00:00-06:00");
  EXPECT_TRUE(held.explanation.contains("quiet_hours"));
  EXPECT_FALSE(held.explanation.contains("expires_with"));
  // Regulatory and urgent types say so; an expiry tied to a data field names it.
  Event notice = bill_;
  notice.type = "disconnection.scheduled";
  notice.data = {{"disconnection_date", "2026-12-01"}, {"amount_due", "310.40"}};
  const Decision& regulatory = on(run(notice, kLate), Channel::sms);
  EXPECT_EQ(regulatory.explanation["rule"], Json::parse(R"({"regulatory": true})"));
  EXPECT_EQ(regulatory.explanation["expires_with"], "data.disconnection_date");
}

TEST(DefaultRulesConfig, MapsTheFourteenEventTypes) {
  RulesConfig cfg = default_rules_config();
  EXPECT_EQ(cfg.types.size(), 14u);
  for (const auto& [name, rule] : cfg.types) {
    EXPECT_EQ(name, rule.type);
    EXPECT_GT(rule.ttl.count(), 0);
  }
  EXPECT_EQ(cfg.types.at("bill.ready").topic, Topic::billing);
  EXPECT_EQ(cfg.types.at("bill.due_soon").expires_at_field, "due_date");
  EXPECT_TRUE(cfg.types.at("disconnection.scheduled").regulatory);
  EXPECT_TRUE(cfg.types.at("leak.detected").urgent);
  EXPECT_EQ(cfg.types.at("leak.detected").topic, Topic::other);
  EXPECT_EQ(cfg.types.at("notice.broadcast").topic, Topic::outage);
  EXPECT_TRUE(cfg.default_preferences.wants(Topic::billing, Channel::email));
}

TEST(DefaultRulesConfig, EveryTypeHasEnglishTemplatesOnEveryChannel) {
  RulesConfig cfg = default_rules_config();
  for (const auto& [name, rule] : cfg.types) {
    for (Channel c : kAllChannels) EXPECT_TRUE(shipped_templates().has(name, c, "en")) << name;
  }
}

}  // namespace
}  // namespace herald::rules
