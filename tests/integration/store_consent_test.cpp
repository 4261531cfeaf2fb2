// Consent records and the one-click unsubscribe against a real Postgres.
#include <gtest/gtest.h>

#include "herald/store/consent.hpp"
#include "herald/store/customers.hpp"
#include "herald/store/db.hpp"
#include "herald/source_dir.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::default_preferences;
using herald::test::make_contact;
using herald::test::make_customer;
using herald::test::test_now;
using herald::test::TestDb;

const std::string kEmail = "ada@example.com";

TEST(StoreConsent, CurrentConsentForATopicCountsTopicAndTopicLessRecords) {
  TestDb t;
  EXPECT_EQ(current_consent(t.db(), Channel::email, kEmail), ConsentState::opted_in);
  record_consent(t.db(), Channel::email, kEmail, Topic::billing, ConsentState::opted_out, "email", "link", test_now());
  EXPECT_EQ(current_consent(t.db(), Channel::email, kEmail, Topic::billing), ConsentState::opted_out);
  EXPECT_EQ(current_consent(t.db(), Channel::email, kEmail, Topic::outage), ConsentState::opted_in);
  EXPECT_EQ(current_consent(t.db(), Channel::email, kEmail), ConsentState::opted_in);
  record_consent(t.db(), Channel::email, kEmail, std::nullopt, ConsentState::opted_out, "admin", "ticket 7", test_now());
  EXPECT_EQ(current_consent(t.db(), Channel::email, kEmail, Topic::outage), ConsentState::opted_out);
  EXPECT_EQ(current_consent(t.db(), Channel::sms, kEmail), ConsentState::opted_in);
  EXPECT_EQ(t.query_value("SELECT evidence FROM herald.consent_events WHERE source = 'admin'"), "ticket 7");
}

TEST(StoreConsent, UnsubscribeSwitchesTopicOffForEveryCustomerWithTheAddress) {
  TestDb t;
  for (const char* id : {"C-1", "C-2"}) {
    ASSERT_TRUE(upsert_customer(t.db(),
                                make_customer(id, {std::string("A-") + id},
                                              {make_contact(Channel::email, kEmail),
                                               make_contact(Channel::sms, "+12175550101")}),
                                default_preferences(), "cis", test_now())
                    .ok());
  }
  ASSERT_TRUE(upsert_customer(t.db(), make_customer("C-3", {"A-3"}, {make_contact(Channel::email, "other@example.com")}),
                              default_preferences(), "cis", test_now())
                  .ok());

  EXPECT_EQ(unsubscribe_topic(t.db(), Channel::email, kEmail, Topic::billing, "message 42", test_now()), 2);
  for (const char* id : {"C-1", "C-2"}) {
    auto p = get_preferences(t.db(), id)->preferences;
    EXPECT_FALSE(p.wants(Topic::billing, Channel::email)) << id;
    EXPECT_TRUE(p.wants(Topic::billing, Channel::sms)) << id;
    EXPECT_TRUE(p.wants(Topic::other, Channel::email)) << id;
  }
  EXPECT_TRUE(get_preferences(t.db(), "C-3")->preferences.wants(Topic::billing, Channel::email));
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.preference_changes WHERE actor = 'unsubscribe-link'"), "2");
  EXPECT_EQ(t.query_value("SELECT topic || ':' || state || ':' || source || ':' || evidence FROM herald.consent_events"
                          " WHERE id = (SELECT max(id) FROM herald.consent_events)"),
            "billing:opted_out:email:message 42");
  EXPECT_EQ(current_consent(t.db(), Channel::email, kEmail, Topic::billing), ConsentState::opted_out);

  // A second click is harmless.
  EXPECT_EQ(unsubscribe_topic(t.db(), Channel::email, kEmail, Topic::billing, "message 42", test_now()), 0);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.preference_changes WHERE actor = 'unsubscribe-link'"), "2");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.consent_events WHERE topic = 'billing'"), "1");
}

TEST(StoreConsent, UnsubscribeOfUnknownAddressStillRecordsTheOptOut) {
  TestDb t;
  EXPECT_EQ(unsubscribe_topic(t.db(), Channel::email, "gone@example.com", Topic::other, "message 9", test_now()), 0);
  EXPECT_EQ(current_consent(t.db(), Channel::email, "gone@example.com", Topic::other), ConsentState::opted_out);
}

TEST(StoreConsent, ContactsCarryTheCurrentConsentOfTheirAddress) {
  TestDb t;
  auto contact_consent = [&](const char* customer) {
    const auto c = get_customer(t.db(), customer);
    return c && !c->contacts.empty() ? c->contacts[0].consent : ConsentState::opted_in;
  };
  for (const char* id : {"C-1", "C-2"}) {
    ASSERT_TRUE(upsert_customer(t.db(), make_customer(id, {std::string("A-") + id}, {make_contact(Channel::sms, "+12175550101")}),
                                default_preferences(), "cis", test_now())
                    .ok());
  }
  EXPECT_EQ(contact_consent("C-1"), ConsentState::opted_in);

  // STOP from the number reaches every contact that has it; a topic's opt-out does not.
  record_consent(t.db(), Channel::sms, "+12175550101", Topic::outage, ConsentState::opted_out, "sms", "topic only", test_now());
  EXPECT_EQ(contact_consent("C-1"), ConsentState::opted_in);
  record_consent(t.db(), Channel::sms, "+12175550101", std::nullopt, ConsentState::opted_out, "sms", "STOP", test_now());
  EXPECT_EQ(contact_consent("C-1"), ConsentState::opted_out);
  EXPECT_EQ(contact_consent("C-2"), ConsentState::opted_out);

  // A contact added later for the stopped number starts opted out; a CIS re-sync keeps it so.
  ASSERT_TRUE(upsert_customer(t.db(), make_customer("C-3", {"A-3"}, {make_contact(Channel::sms, "+12175550101")}),
                              default_preferences(), "cis", test_now())
                  .ok());
  EXPECT_EQ(contact_consent("C-3"), ConsentState::opted_out);
  ASSERT_TRUE(upsert_customer(t.db(), make_customer("C-1", {"A-C-1"}, {make_contact(Channel::sms, "+12175550101")}),
                              default_preferences(), "cis", test_now())
                  .ok());
  EXPECT_EQ(contact_consent("C-1"), ConsentState::opted_out);

  // START opts them all back in.
  record_consent(t.db(), Channel::sms, "+12175550101", std::nullopt, ConsentState::opted_in, "sms", "START", test_now());
  for (const char* id : {"C-1", "C-2", "C-3"}) EXPECT_EQ(contact_consent(id), ConsentState::opted_in) << id;
}

// A bulk load writes far more contacts in one transaction than Postgres has lock slots (the
// test cluster runs out between 30,000 and 60,000): the consent lock must not take one per address.
TEST(StoreConsent, ABulkLoadOfContactsInOneTransactionKeepsConsent) {
  TestDb t;
  record_consent(t.db(), Channel::sms, "+12175010007", std::nullopt, ConsentState::opted_out, "sms", "STOP", test_now());
  t.exec("INSERT INTO herald.customers (customer_id, name) SELECT 'B-' || g, 'Bulk ' || g"
         " FROM generate_series(1, 60000) g;"
         "INSERT INTO herald.contacts (customer_id, channel, address, verified)"
         " SELECT 'B-' || g, 'sms', '+12175' || lpad(g::text, 6, '0'), true FROM generate_series(1, 60000) g");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.contacts WHERE consent = 'opted_in'"), "59999");
  EXPECT_EQ(t.query_value("SELECT customer_id FROM herald.contacts WHERE consent = 'opted_out'"), "B-10007");
  // And one transaction of many consent events does too.
  t.exec("INSERT INTO herald.consent_events (channel, address, state, source)"
         " SELECT 'sms', '+12175' || lpad(g::text, 6, '0'), 'opted_out', 'admin' FROM generate_series(1, 60000) g");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.contacts WHERE consent = 'opted_out'"), "60000");
}

// 0027 notes every address whose consent records hold a topic-less opt-out, also one that
// opted in again since, and no other.
TEST(StoreConsent, Migration0027NotesEveryAddressThatEverOptedOut) {
  TestDb t(TestDb::Empty{});
  EXPECT_EQ(herald::test::migrate_before(t, "0027"), herald::test::migrations_before("0027"));

  t.exec("INSERT INTO herald.consent_events (channel, address, state, source, evidence, topic) VALUES"
         " ('sms', '+12175550101', 'opted_out', 'sms', 'stop', NULL),"
         " ('sms', '+12175550101', 'opted_in', 'sms', 'start', NULL),"
         " ('sms', '+12175550102', 'opted_out', 'sms', 'stop', NULL),"
         " ('sms', '+12175550102', 'opted_out', 'provider', '21610', NULL),"
         " ('voice', '+12175550102', 'opted_in', 'cis', 'load', NULL),"
         " ('sms', '+12175550103', 'opted_in', 'cis', 'load', NULL),"
         " ('email', 'a@example.com', 'opted_out', 'web', 'unsubscribe', 'billing')");
  // 0027 and every later migration.
  EXPECT_EQ(migrate(t.db(), HERALD_SOURCE_DIR "/migrations"), herald::test::migrations_from("0027"));
  EXPECT_EQ(t.query_value("SELECT string_agg(channel || ' ' || address, ',' ORDER BY address) FROM herald.opt_outs_seen"),
            "sms +12175550101,sms +12175550102");
}

}  // namespace
}  // namespace herald::store
