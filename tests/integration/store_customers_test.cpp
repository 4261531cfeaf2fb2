// Customers against a real Postgres: create-or-replace, dropped contacts, account ownership, consent.
#include <gtest/gtest.h>

#include <algorithm>

#include "herald/store/consent.hpp"
#include "herald/store/customers.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::default_preferences;
using herald::test::make_account;
using herald::test::make_contact;
using herald::test::make_customer;
using herald::test::make_preferences;
using herald::test::test_now;
using herald::test::TestDb;

const Contact* find_contact(const std::vector<Contact>& cs, Channel ch, const std::string& address) {
  for (const auto& c : cs)
    if (c.channel == ch && c.address == address) return &c;
  return nullptr;
}

TEST(StoreCustomers, UpsertCreatesCustomerWithAccountsContactsAndDefaultPreferences) {
  TestDb t;
  auto in = make_customer("C-1", {"A-1", "A-2"},
                          {make_contact(Channel::sms, "+12175550101"), make_contact(Channel::email, "ada@example.com")});
  in.accounts[1].timezone = "America/New_York";
  in.accounts[1].segments = {"medical", "low_income"};
  auto r = upsert_customer(t.db(), in, default_preferences(), "cis:test", test_now());
  ASSERT_TRUE(r.ok()) << r.error().code;
  EXPECT_EQ(r->customer_id, "C-1");
  EXPECT_EQ(r->name, "Ada Lovelace");
  ASSERT_EQ(r->accounts.size(), 2u);
  EXPECT_EQ(r->accounts[0].account_id, "A-1");
  EXPECT_EQ(r->accounts[0].service_address.city, "Springfield");
  EXPECT_EQ(r->accounts[0].service_address.zip, "62701");
  EXPECT_EQ(r->accounts[1].timezone, "America/New_York");
  EXPECT_EQ(r->accounts[1].segments, (std::vector<std::string>{"medical", "low_income"}));
  ASSERT_EQ(r->contacts.size(), 2u);
  for (const auto& c : r->contacts) {
    EXPECT_TRUE(c.verified);
    EXPECT_TRUE(c.active);
    EXPECT_EQ(c.source, "cis");
    EXPECT_EQ(c.consent, ConsentState::opted_in);
    EXPECT_GT(c.id, 0);
  }
  EXPECT_EQ(t.query_value("SELECT zip FROM herald.accounts WHERE account_id = 'A-1'"), "62701");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.consent_events WHERE source = 'cis' AND state = 'opted_in'"),
            "2");

  auto prefs = get_preferences(t.db(), "C-1");
  ASSERT_TRUE(prefs);
  EXPECT_EQ(prefs->preferences, default_preferences());
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.preference_changes WHERE customer_id = 'C-1'"
                          " AND actor = 'cis:test' AND old_value IS NULL"),
            "1");

  auto got = get_customer(t.db(), "C-1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->accounts.size(), 2u);
  EXPECT_EQ(got->contacts.size(), 2u);
}

TEST(StoreCustomers, UnknownCustomerIsAbsent) {
  TestDb t;
  EXPECT_FALSE(get_customer(t.db(), "nobody"));
  EXPECT_FALSE(get_preferences(t.db(), "nobody"));
}

TEST(StoreCustomers, UpsertReplacesAccountsAndKeepsPreferencesOfExistingCustomer) {
  TestDb t;
  ASSERT_TRUE(upsert_customer(t.db(), make_customer("C-1", {"A-1", "A-2"}, {make_contact(Channel::sms, "+12175550101")}),
                              default_preferences(), "cis", test_now())
                  .ok());
  auto changed = make_customer("C-1", {"A-2", "A-3"}, {make_contact(Channel::sms, "+12175550101")});
  changed.name = "Ada King";
  changed.accounts[0].feeder = "F-99";
  // A replacement never resets preferences to the defaults.
  auto other_defaults = herald::test::make_preferences({{Topic::billing, {Channel::voice}}});
  auto r = upsert_customer(t.db(), changed, other_defaults, "cis", test_now());
  ASSERT_TRUE(r.ok()) << r.error().code;
  EXPECT_EQ(r->name, "Ada King");
  ASSERT_EQ(r->accounts.size(), 2u);
  EXPECT_EQ(r->accounts[0].account_id, "A-2");
  EXPECT_EQ(r->accounts[0].feeder, "F-99");
  EXPECT_EQ(r->accounts[1].account_id, "A-3");
  EXPECT_EQ(t.query_value("SELECT active FROM herald.accounts WHERE account_id = 'A-1'"), "f");
  EXPECT_EQ(get_preferences(t.db(), "C-1")->preferences, default_preferences());
  EXPECT_EQ(existing_account_ids(t.db(), {"A-1", "A-2", "A-3", "A-404"}).size(), 2u);
}

TEST(StoreCustomers, DroppedContactBecomesInactiveAndKeepsItsHistory) {
  TestDb t;
  ASSERT_TRUE(upsert_customer(t.db(),
                              make_customer("C-1", {"A-1"},
                                            {make_contact(Channel::sms, "+12175550101"),
                                             make_contact(Channel::email, "ada@example.com")}),
                              default_preferences(), "cis", test_now())
                  .ok());
  const auto email_id = t.query_value("SELECT contact_id FROM herald.contacts WHERE channel = 'email'");
  auto r = upsert_customer(t.db(), make_customer("C-1", {"A-1"}, {make_contact(Channel::sms, "+12175550101")}),
                           default_preferences(), "cis", test_now());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->contacts.size(), 1u);
  EXPECT_EQ(r->contacts[0].channel, Channel::sms);
  EXPECT_EQ(t.query_value("SELECT active FROM herald.contacts WHERE contact_id = " + email_id), "f");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.consent_events WHERE address = 'ada@example.com'"), "1");

  // Given back later, it is the same row again, active.
  r = upsert_customer(t.db(),
                      make_customer("C-1", {"A-1"},
                                    {make_contact(Channel::sms, "+12175550101"),
                                     make_contact(Channel::email, "ada@example.com")}),
                      default_preferences(), "cis", test_now());
  ASSERT_TRUE(r.ok());
  const auto* email = find_contact(r->contacts, Channel::email, "ada@example.com");
  ASSERT_NE(email, nullptr);
  EXPECT_EQ(std::to_string(email->id), email_id);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.contacts"), "2");
}

TEST(StoreCustomers, AccountOwnedByAnotherCustomerIsConflictAndNothingIsStored) {
  TestDb t;
  ASSERT_TRUE(upsert_customer(t.db(), make_customer("C-1", {"A-1"}, {}), default_preferences(), "cis", test_now()).ok());
  auto r = upsert_customer(t.db(), make_customer("C-2", {"A-2", "A-1"}, {make_contact(Channel::sms, "+12175550199")}),
                           default_preferences(), "cis", test_now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::conflict);
  EXPECT_EQ(r.error().code, "account_owned_elsewhere");
  EXPECT_FALSE(get_customer(t.db(), "C-2"));
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.accounts"), "1");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.contacts"), "0");
  EXPECT_EQ(t.query_value("SELECT customer_id FROM herald.accounts WHERE account_id = 'A-1'"), "C-1");
}

TEST(StoreCustomers, AccountDroppedByItsCustomerMayMoveToAnother) {
  TestDb t;
  ASSERT_TRUE(upsert_customer(t.db(), make_customer("C-1", {"A-1", "A-9"}, {}), default_preferences(), "cis", test_now()).ok());
  ASSERT_TRUE(upsert_customer(t.db(), make_customer("C-1", {"A-9"}, {}), default_preferences(), "cis", test_now()).ok());
  auto r = upsert_customer(t.db(), make_customer("C-2", {"A-1"}, {}), default_preferences(), "cis", test_now());
  ASSERT_TRUE(r.ok()) << r.error().code;
  EXPECT_EQ(t.query_value("SELECT customer_id || ':' || active FROM herald.accounts WHERE account_id = 'A-1'"),
            "C-2:true");
}

TEST(StoreCustomers, DuplicateAccountInBodyIsUnprocessable) {
  TestDb t;
  auto r = upsert_customer(t.db(), make_customer("C-1", {"A-1", "A-1"}, {}), default_preferences(), "cis", test_now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid);
  EXPECT_EQ(r.error().field, "accounts[1].account_id");
}

TEST(StoreCustomers, ConsentIsTheNewestTopicLessRecord) {
  TestDb t;
  const std::string phone = "+12175550101";
  ASSERT_TRUE(upsert_customer(t.db(), make_customer("C-1", {"A-1"}, {make_contact(Channel::sms, phone)}),
                              default_preferences(), "cis", test_now())
                  .ok());
  record_consent(t.db(), Channel::sms, phone, std::nullopt, ConsentState::opted_out, "sms", "STOP", test_now());
  EXPECT_EQ(get_customer(t.db(), "C-1")->contacts[0].consent, ConsentState::opted_out);
  // A topic record does not change the contact's overall consent.
  record_consent(t.db(), Channel::sms, phone, Topic::billing, ConsentState::opted_in, "web", "", test_now());
  EXPECT_EQ(get_customer(t.db(), "C-1")->contacts[0].consent, ConsentState::opted_out);
  record_consent(t.db(), Channel::sms, phone, std::nullopt, ConsentState::opted_in, "sms", "START", test_now());
  EXPECT_EQ(get_customer(t.db(), "C-1")->contacts[0].consent, ConsentState::opted_in);
}

TEST(StoreCustomers, CisResyncDoesNotOverrideAnEarlierOptOut) {
  TestDb t;
  const std::string phone = "+12175550101";
  record_consent(t.db(), Channel::sms, phone, std::nullopt, ConsentState::opted_out, "sms", "STOP", test_now());
  auto r = upsert_customer(t.db(), make_customer("C-1", {"A-1"}, {make_contact(Channel::sms, phone)}),
                           default_preferences(), "cis", test_now());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->contacts[0].consent, ConsentState::opted_out);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.consent_events"), "1");
}

TEST(StoreCustomers, SharedNumberOptOutAppliesToEveryCustomer) {
  TestDb t;
  const std::string phone = "+12175550101";
  ASSERT_TRUE(upsert_customer(t.db(), make_customer("C-1", {"A-1"}, {make_contact(Channel::sms, phone)}),
                              default_preferences(), "cis", test_now())
                  .ok());
  ASSERT_TRUE(upsert_customer(t.db(), make_customer("C-2", {"A-2"}, {make_contact(Channel::sms, phone)}),
                              default_preferences(), "cis", test_now())
                  .ok());
  record_consent(t.db(), Channel::sms, phone, std::nullopt, ConsentState::opted_out, "sms", "STOP", test_now());
  EXPECT_EQ(get_customer(t.db(), "C-1")->contacts[0].consent, ConsentState::opted_out);
  EXPECT_EQ(get_customer(t.db(), "C-2")->contacts[0].consent, ConsentState::opted_out);
}

// Every row the CIS write touches carries the time the caller gives, not the database's clock.
TEST(StoreCustomers, StampsEveryRowItWritesWithTheTimeItIsGiven) {
  TestDb t;
  const auto first = test_now();
  ASSERT_TRUE(upsert_customer(t.db(),
                              make_customer("C-1", {"A-1"}, {make_contact(Channel::sms, "+12175550101"),
                                                             make_contact(Channel::email, "ada@example.com")}),
                              default_preferences(), "cis", first)
                  .ok());
  const auto at = [](TimePoint tp) { return "'" + format_time(tp) + "'::timestamptz"; };
  EXPECT_EQ(t.query_value("SELECT (created_at = " + at(first) + " AND updated_at = " + at(first) +
                          ")::text FROM herald.customers"),
            "true");
  EXPECT_EQ(t.query_value("SELECT bool_and(created_at = " + at(first) + " AND updated_at = " + at(first) +
                          ")::text FROM herald.contacts"),
            "true");
  EXPECT_EQ(t.query_value("SELECT bool_and(recorded_at = " + at(first) + ")::text FROM herald.consent_events"), "true");
  EXPECT_EQ(t.query_value("SELECT (updated_at = " + at(first) + ")::text FROM herald.preferences"), "true");
  EXPECT_EQ(t.query_value("SELECT (changed_at = " + at(first) + ")::text FROM herald.preference_changes"), "true");

  // A re-sync an hour later that drops the email: updated rows move to the new time, created ones stay.
  const auto later = first + std::chrono::hours(1);
  ASSERT_TRUE(upsert_customer(t.db(), make_customer("C-1", {"A-1"}, {make_contact(Channel::sms, "+12175550101")}),
                              default_preferences(), "cis", later)
                  .ok());
  EXPECT_EQ(t.query_value("SELECT (created_at = " + at(first) + " AND updated_at = " + at(later) +
                          ")::text FROM herald.customers"),
            "true");
  EXPECT_EQ(t.query_value("SELECT (updated_at = " + at(later) + ")::text FROM herald.contacts WHERE NOT active"),
            "true");

  const auto prefs_at = later + std::chrono::minutes(5);
  ASSERT_TRUE(put_preferences(t.db(), "C-1", make_preferences({{Topic::outage, {Channel::sms}}}), "customer:C-1",
                              prefs_at)
                  .ok());
  EXPECT_EQ(t.query_value("SELECT (updated_at = " + at(prefs_at) + ")::text FROM herald.preferences"), "true");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.preference_changes WHERE changed_at = " + at(prefs_at)), "1");
}

}  // namespace
}  // namespace herald::store
