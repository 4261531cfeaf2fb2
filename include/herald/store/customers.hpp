// Customers, their accounts and contacts, and their notification preferences.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// Creates or replaces a customer: accounts are replaced (an account id owned by another
// customer -> conflict "account_owned_elsewhere"), contacts upserted by (channel, address) as
// verified source "cis"; contacts not in the body become active=false (history kept); a
// contact new to consent_events gets an opted_in record from source "cis". New customers get
// `default_prefs`. Every row written is stamped `now`. Returns the stored customer (as
// get_customer would).
Result<Customer> upsert_customer(Database& db, const Customer& customer, const Preferences& default_prefs,
                                 std::string_view actor, TimePoint now);

// Active accounts and contacts; Contact.consent is the current (all-topic) consent state.
std::optional<Customer> get_customer(Database& db, std::string_view customer_id);

// Which of these account ids exist (any customer), in no particular order.
std::vector<std::string> existing_account_ids(Database& db, const std::vector<std::string>& account_ids);

struct PreferencesView {
  Preferences preferences;
  std::vector<Contact> contacts;  // active ones, with verified + current consent
};
std::optional<PreferencesView> get_preferences(Database& db, std::string_view customer_id);

// Validates that every chosen channel has an active verified contact (invalid, field
// "topics.<topic>.channels", code "no_contact_for_channel"), stores, and records
// preference_changes (actor, old -> new JSON), both at `now`. Unknown customer -> not_found
// "customer_not_found".
Result<PreferencesView> put_preferences(Database& db, std::string_view customer_id, const Preferences& prefs,
                                        std::string_view actor, TimePoint now);

}  // namespace herald::store
