// Preferences against a real Postgres: contact checks, storage and the change log.
#include <gtest/gtest.h>

#include "herald/store/customers.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::default_preferences;
using herald::test::make_contact;
using herald::test::make_customer;
using herald::test::make_preferences;
using herald::test::test_now;
using herald::test::TestDb;

void seed(TestDb& t) {
  auto r = upsert_customer(t.db(),
                           make_customer("C-1", {"A-1"},
                                         {make_contact(Channel::sms, "+12175550101"),
                                          make_contact(Channel::email, "ada@example.com")}),
                           default_preferences(), "cis", test_now());
  ASSERT_TRUE(r.ok());
}

TEST(StorePreferences, ChannelWithoutContactIsUnprocessableAndNothingChanges) {
  TestDb t;
  seed(t);
  auto prefs = make_preferences({{Topic::billing, {Channel::sms}}, {Topic::outage, {Channel::sms, Channel::voice}}});
  auto r = put_preferences(t.db(), "C-1", prefs, "customer:C-1", test_now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid);
  EXPECT_EQ(r.error().code, "no_contact_for_channel");
  EXPECT_EQ(r.error().field, "topics.outage.channels");
  EXPECT_EQ(get_preferences(t.db(), "C-1")->preferences, default_preferences());
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.preference_changes"), "1");  // the initial defaults
}

// The view is one statement: a customer without a preferences row or contacts, and one with
// inactive contacts only, still have their view; an unknown one has none.
TEST(StorePreferences, ViewOfACustomerWithNothingChosenAndOnlyInactiveContacts) {
  TestDb t;
  EXPECT_FALSE(get_preferences(t.db(), "C-9"));
  t.exec("INSERT INTO herald.customers (customer_id, name, language) VALUES ('C-9', 'Nine', 'en')");
  auto v = get_preferences(t.db(), "C-9");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->preferences, Preferences{});
  EXPECT_TRUE(v->contacts.empty());

  t.exec("INSERT INTO herald.contacts (customer_id, channel, address, verified, active, source)"
         " VALUES ('C-9', 'sms', '+12175550109', true, false, 'cis')");
  v = get_preferences(t.db(), "C-9");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->contacts.empty());

  seed(t);
  v = get_preferences(t.db(), "C-1");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->preferences, default_preferences());
  ASSERT_EQ(v->contacts.size(), 2u);
  EXPECT_LT(v->contacts[0].id, v->contacts[1].id);  // in contact order, as before
  EXPECT_EQ(v->contacts[0].channel, Channel::sms);
  EXPECT_EQ(v->contacts[1].address, "ada@example.com");
}

TEST(StorePreferences, UnverifiedOrInactiveContactDoesNotCount) {
  TestDb t;
  seed(t);
  t.exec("INSERT INTO herald.contacts (customer_id, channel, address, verified, source)"
         " VALUES ('C-1', 'voice', '+12175550101', false, 'web')");
  auto r = put_preferences(t.db(), "C-1", make_preferences({{Topic::outage, {Channel::voice}}}), "customer:C-1", test_now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "topics.outage.channels");

  t.exec("UPDATE herald.contacts SET verified = true, active = false WHERE channel = 'voice'");
  r = put_preferences(t.db(), "C-1", make_preferences({{Topic::outage, {Channel::voice}}}), "customer:C-1", test_now());
  ASSERT_FALSE(r.ok());

  t.exec("UPDATE herald.contacts SET active = true WHERE channel = 'voice'");
  r = put_preferences(t.db(), "C-1", make_preferences({{Topic::outage, {Channel::voice}}}), "customer:C-1", test_now());
  EXPECT_TRUE(r.ok());
}

TEST(StorePreferences, PutStoresAndRecordsOldAndNewWithActor) {
  TestDb t;
  seed(t);
  auto prefs = make_preferences({{Topic::billing, {Channel::email}}, {Topic::outage, {Channel::sms}}});
  prefs.quiet_hours = {true, LocalTime{22 * 60}, LocalTime{7 * 60 + 30}};
  prefs.language = "es";
  auto r = put_preferences(t.db(), "C-1", prefs, "customer:C-1", test_now());
  ASSERT_TRUE(r.ok()) << r.error().code;
  EXPECT_EQ(r->preferences, prefs);
  EXPECT_EQ(r->contacts.size(), 2u);

  auto stored = get_preferences(t.db(), "C-1");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->preferences.topics, prefs.topics);
  EXPECT_EQ(stored->preferences.quiet_hours, prefs.quiet_hours);
  EXPECT_EQ(stored->preferences.language, "es");

  const std::string last = "(SELECT max(id) FROM herald.preference_changes)";
  EXPECT_EQ(t.query_value("SELECT actor FROM herald.preference_changes WHERE id = " + last), "customer:C-1");
  EXPECT_EQ(t.query_value("SELECT old_value -> 'topics' -> 'billing' -> 'channels' FROM herald.preference_changes"
                          " WHERE id = " + last),
            R"(["sms", "email"])");
  EXPECT_EQ(t.query_value("SELECT new_value -> 'topics' -> 'billing' -> 'channels' FROM herald.preference_changes"
                          " WHERE id = " + last),
            R"(["email"])");
  EXPECT_EQ(t.query_value("SELECT new_value -> 'quiet_hours' ->> 'start' FROM herald.preference_changes WHERE id = " +
                          last),
            "22:00");
}

TEST(StorePreferences, UnchangedPutRecordsNoChange) {
  TestDb t;
  seed(t);
  ASSERT_TRUE(put_preferences(t.db(), "C-1", default_preferences(), "customer:C-1", test_now()).ok());
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.preference_changes"), "1");
}

TEST(StorePreferences, UnknownCustomerIsNotFound) {
  TestDb t;
  auto r = put_preferences(t.db(), "C-404", default_preferences(), "admin", test_now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
}

TEST(StorePreferences, ViewShowsActiveContactsWithConsent) {
  TestDb t;
  seed(t);
  t.exec("INSERT INTO herald.consent_events (channel, address, state, source) VALUES"
         " ('sms', '+12175550101', 'opted_out', 'sms')");
  auto v = get_preferences(t.db(), "C-1");
  ASSERT_TRUE(v);
  ASSERT_EQ(v->contacts.size(), 2u);
  for (const auto& c : v->contacts) {
    EXPECT_TRUE(c.verified);
    EXPECT_EQ(c.consent, c.channel == Channel::sms ? ConsentState::opted_out : ConsentState::opted_in);
  }
}

}  // namespace
}  // namespace herald::store
