// Customers, accounts, contacts and preferences: create-or-replace from the CIS, reads, and
// preference changes with their log.
#include "herald/store/customers.hpp"

#include <set>
#include <utility>

#include "repo_util.hpp"

namespace herald::store {

namespace {

// Lists travel as one JSON parameter each (libpqxx 6 has no array parameters).
const char* const kAccountsOwnedElsewhere =
    "SELECT account_id, customer_id FROM herald.accounts"
    " WHERE account_id IN (SELECT jsonb_array_elements_text($1::jsonb))"
    "   AND customer_id <> $2 AND active"
    " ORDER BY account_id";

// xmax = 0 only on a freshly inserted row: tells a new customer from a replaced one.
const char* const kUpsertCustomer =
    "INSERT INTO herald.customers (customer_id, name, language, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz)"
    " ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name, language = excluded.language,"
    "  updated_at = excluded.updated_at"
    " RETURNING (xmax = 0)";

// An account moves only from a customer that no longer has it active; a concurrent claim
// by another customer makes the row skip, which the caller reports as a conflict.
const char* const kUpsertAccounts =
    "INSERT INTO herald.accounts (account_id, customer_id, premise_id, service_address, timezone, zip,"
    "  feeder, segments, language, active)"
    " SELECT x.account_id, $1, x.premise_id, x.service_address, x.timezone, x.zip, x.feeder, x.segments,"
    "  x.language, true"
    " FROM jsonb_to_recordset($2::jsonb) AS x(account_id text, premise_id text, service_address jsonb,"
    "  timezone text, zip text, feeder text, segments text[], language text)"
    " ON CONFLICT (account_id) DO UPDATE SET customer_id = excluded.customer_id,"
    "  premise_id = excluded.premise_id, service_address = excluded.service_address,"
    "  timezone = excluded.timezone, zip = excluded.zip, feeder = excluded.feeder,"
    "  segments = excluded.segments, language = excluded.language, active = true"
    " WHERE herald.accounts.customer_id = excluded.customer_id OR NOT herald.accounts.active"
    " RETURNING account_id";

const char* const kDeactivateDroppedAccounts =
    "UPDATE herald.accounts SET active = false"
    " WHERE customer_id = $1 AND active"
    "   AND account_id NOT IN (SELECT jsonb_array_elements_text($2::jsonb))";

// Every consent bucket the contacts need, in bucket order, before anything is written: two
// customers whose addresses share buckets then queue instead of deadlocking (0006).
const char* const kLockConsentBuckets = "SELECT herald.consent_lock_contacts($1::jsonb)";

const char* const kUpsertContacts =
    "INSERT INTO herald.contacts (customer_id, channel, address, verified, source, active, created_at, updated_at)"
    " SELECT $1, x.channel, x.address, true, 'cis', true, $3::timestamptz, $3::timestamptz"
    " FROM jsonb_to_recordset($2::jsonb) AS x(channel text, address text)"
    " ON CONFLICT (customer_id, channel, address) DO UPDATE SET verified = true, source = 'cis',"
    "  active = true, updated_at = excluded.updated_at"
    " WHERE NOT (herald.contacts.verified AND herald.contacts.active AND herald.contacts.source = 'cis')";

// Dropped contacts stay as rows so their messages and consent history keep their meaning.
// Contacts the customer added on the web are not the CIS's to drop.
const char* const kDeactivateDroppedContacts =
    "UPDATE herald.contacts SET active = false, updated_at = $3::timestamptz"
    " WHERE customer_id = $1 AND active AND source = 'cis'"
    "   AND (channel, address) NOT IN"
    "     (SELECT x.channel, x.address FROM jsonb_to_recordset($2::jsonb) AS x(channel text, address text))";

// Only an address with no consent history at all gets the CIS opt-in: an earlier opt-out
// (say, STOP from a previous owner of the number) must survive a CIS re-sync.
const char* const kInitialConsent =
    "INSERT INTO herald.consent_events (channel, address, state, source, evidence, recorded_at)"
    " SELECT DISTINCT x.channel, x.address, 'opted_in', 'cis', $2, $3::timestamptz"
    " FROM jsonb_to_recordset($1::jsonb) AS x(channel text, address text)"
    " WHERE NOT EXISTS (SELECT 1 FROM herald.consent_events ce"
    "                   WHERE ce.channel = x.channel AND ce.address = x.address)";

const char* const kSelectCustomer =
    "SELECT name, language FROM herald.customers WHERE customer_id = $1";
// The customer (no row: not found), its preferences (null columns: none) and its active
// contacts (null columns: none), a row per contact.
const char* const kSelectPreferencesView =
    "SELECT p.topics::text, p.quiet_hours_enabled, p.quiet_start, p.quiet_end, p.language,"
    " ct.contact_id, ct.channel, ct.address, ct.verified, ct.active, ct.source, ct.consent"
    " FROM herald.customers cu"
    " LEFT JOIN herald.preferences p ON p.customer_id = cu.customer_id"
    " LEFT JOIN herald.contacts ct ON ct.customer_id = cu.customer_id AND ct.active"
    " WHERE cu.customer_id = $1"
    " ORDER BY ct.contact_id";
const char* const kLockCustomer =
    "SELECT 1 FROM herald.customers WHERE customer_id = $1 FOR UPDATE";

const char* const kSelectAccounts =
    "SELECT account_id, premise_id, service_address::text, timezone, feeder, to_jsonb(segments)::text, language"
    " FROM herald.accounts WHERE customer_id = $1 AND active ORDER BY account_id";

const char* const kExistingAccounts =
    "SELECT account_id FROM herald.accounts"
    " WHERE active AND account_id IN (SELECT jsonb_array_elements_text($1::jsonb))";

std::string string_field(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Json service_address_json(const ServiceAddress& a) {
  return {{"line1", a.line1}, {"line2", a.line2}, {"city", a.city}, {"state", a.state}, {"zip", a.zip}};
}

ServiceAddress service_address_of(const Json& j) {
  ServiceAddress a;
  if (!j.is_object()) return a;
  a.line1 = string_field(j, "line1");
  a.line2 = string_field(j, "line2");
  a.city = string_field(j, "city");
  a.state = string_field(j, "state");
  a.zip = string_field(j, "zip");
  return a;
}

std::optional<Customer> load_customer(pqxx::transaction_base& t, std::string_view customer_id) {
  const auto r = t.exec_params(kSelectCustomer, std::string(customer_id));
  if (r.empty()) return std::nullopt;
  Customer c;
  c.customer_id = std::string(customer_id);
  c.name = r[0][0].c_str();
  c.language = r[0][1].c_str();
  for (const auto& row : t.exec_params(kSelectAccounts, c.customer_id)) {
    Account a;
    a.account_id = row[0].c_str();
    a.premise_id = row[1].c_str();
    a.service_address = service_address_of(json_of(row[2]));
    a.timezone = row[3].c_str();
    a.feeder = row[4].c_str();
    a.segments = json_of(row[5]).get<std::vector<std::string>>();
    a.language = row[6].c_str();
    c.accounts.push_back(std::move(a));
  }
  c.contacts = load_contacts(t, c.customer_id, /*active_only=*/true);
  return c;
}

ApiError account_owned_elsewhere(const std::string& account_id) {
  return {ErrorKind::conflict, "account_owned_elsewhere",
          "account " + account_id + " belongs to another customer", "accounts"};
}

}  // namespace

Result<Customer> upsert_customer(Database& db, const Customer& customer, const Preferences& default_prefs,
                                 std::string_view actor, TimePoint now) {
  Json account_ids = Json::array();
  Json accounts = Json::array();
  std::set<std::string> seen_accounts;
  for (std::size_t i = 0; i < customer.accounts.size(); ++i) {
    const auto& a = customer.accounts[i];
    if (!seen_accounts.insert(a.account_id).second)
      return invalid("accounts[" + std::to_string(i) + "].account_id", "duplicate_account_id",
                           "account " + a.account_id + " appears twice");
    account_ids.push_back(a.account_id);
    accounts.push_back({{"account_id", a.account_id},
                        {"premise_id", a.premise_id},
                        {"service_address", service_address_json(a.service_address)},
                        {"timezone", a.timezone},
                        {"zip", a.service_address.zip},
                        {"feeder", a.feeder},
                        {"segments", a.segments},
                        {"language", a.language}});
  }
  // The same (channel, address) twice is one contact.
  Json contacts = Json::array();
  std::set<std::pair<Channel, std::string>> seen_contacts;
  for (const auto& c : customer.contacts) {
    if (!seen_contacts.emplace(c.channel, c.address).second) continue;
    contacts.push_back({{"channel", std::string(to_string(c.channel))}, {"address", c.address}});
  }
  const std::string account_ids_text = account_ids.dump();
  const std::string accounts_text = accounts.dump();
  const std::string contacts_text = contacts.dump();
  const std::string evidence = "customer " + customer.customer_id + " from " + std::string(actor);
  const std::string at = format_time(now);

  return transact<Customer>(db, [&](pqxx::work& w) -> Result<Customer> {
    w.exec_params(kLockConsentBuckets, contacts_text);
    const auto owned = w.exec_params(kAccountsOwnedElsewhere, account_ids_text, customer.customer_id);
    if (!owned.empty()) return account_owned_elsewhere(owned[0][0].c_str());

    w.exec_params(kUpsertCustomer, customer.customer_id, customer.name, customer.language, at);
    const auto stored = w.exec_params(kUpsertAccounts, customer.customer_id, accounts_text);
    if (stored.size() != customer.accounts.size()) {
      std::set<std::string> done;
      for (const auto& row : stored) done.insert(row[0].c_str());
      for (const auto& a : customer.accounts)
        if (!done.count(a.account_id)) return account_owned_elsewhere(a.account_id);
    }
    w.exec_params(kDeactivateDroppedAccounts, customer.customer_id, account_ids_text);

    w.exec_params(kUpsertContacts, customer.customer_id, contacts_text, at);
    w.exec_params(kDeactivateDroppedContacts, customer.customer_id, contacts_text, at);
    w.exec_params(kInitialConsent, contacts_text, evidence, at);

    // A new customer (or one inserted without preferences) starts from the configured defaults.
    if (!load_preferences(w, customer.customer_id, /*lock=*/true)) {
      store_preferences(w, customer.customer_id, default_prefs, now);
      record_preference_change(w, customer.customer_id, actor, std::nullopt, default_prefs, now);
    }
    return *load_customer(w, customer.customer_id);
  });
}

std::optional<Customer> get_customer(Database& db, std::string_view customer_id) {
  return in_transaction(db, [&](pqxx::work& w) { return load_customer(w, customer_id); });
}

std::vector<std::string> existing_account_ids(Database& db, const std::vector<std::string>& account_ids) {
  std::vector<std::string> out;
  if (account_ids.empty()) return out;
  const std::string ids = Json(account_ids).dump();
  with_connection(db, [&](pqxx::connection& c) {
    out.clear();
    pqxx::nontransaction n(c);
    for (const auto& row : n.exec_params(kExistingAccounts, ids)) out.emplace_back(row[0].c_str());
  });
  return out;
}

std::optional<PreferencesView> get_preferences(Database& db, std::string_view customer_id) {
  // One statement, one round trip, one snapshot: each round trip of a request waits for its
  // backend and its HTTP thread to be scheduled again, which on a machine busy with a storm is
  // most of a request's time (bench/storm/api_profile.py).
  std::optional<PreferencesView> out;
  with_connection(db, [&](pqxx::connection& c) {
    out.reset();
    pqxx::nontransaction n(c);
    for (const auto& row : n.exec_params(kSelectPreferencesView, std::string(customer_id))) {
      if (!out) {
        out.emplace();
        // A customer created outside upsert_customer may have no row yet: nothing chosen.
        if (!row[0].is_null()) out->preferences = preferences_of(row, 0);
      }
      if (!row[5].is_null()) out->contacts.push_back(contact_of(row, 5));
    }
  });
  return out;
}

Result<PreferencesView> put_preferences(Database& db, std::string_view customer_id, const Preferences& prefs,
                                        std::string_view actor, TimePoint now) {
  return transact<PreferencesView>(db, [&](pqxx::work& w) -> Result<PreferencesView> {
    if (w.exec_params(kLockCustomer, std::string(customer_id)).empty())
      return not_found("customer_not_found", "no customer " + std::string(customer_id));
    PreferencesView v;
    v.contacts = load_contacts(w, customer_id, /*active_only=*/true);
    for (const auto& [topic, channels] : prefs.topics) {
      for (auto channel : channels) {
        bool reachable = false;
        for (const auto& c : v.contacts) reachable = reachable || (c.channel == channel && c.verified);
        if (!reachable)
          return invalid("topics." + std::string(to_string(topic)) + ".channels", "no_contact_for_channel",
                               "no verified " + std::string(to_string(channel)) + " contact for topic " +
                                   std::string(to_string(topic)));
      }
    }
    const auto old = load_preferences(w, customer_id, /*lock=*/true);
    // Only real changes go to the change log; saving the page unchanged records nothing. (The
    // API form compares "no entry for a topic" and "an empty channel list" as equal.)
    if (!old || *old != prefs) {
      store_preferences(w, customer_id, prefs, now);
      record_preference_change(w, customer_id, actor, old, prefs, now);
    }
    v.preferences = prefs;
    return v;
  });
}

}  // namespace herald::store
