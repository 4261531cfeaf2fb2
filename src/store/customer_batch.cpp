// Many customers at once: staging tables filled with COPY, then one statement per table.
#include "herald/store/customer_batch.hpp"

#include <stdexcept>
#include <utility>

#include "copy_line.hpp"
#include "herald/domain/json_io.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

// Every statement below looks rows of the real tables up by key, for a staged round of at most
// a few tens of thousands of customers. Left to itself the planner hashes or sorts whole tables
// for them (rebuilding the hash of all contacts for each customer, inside kClassify's
// subqueries), and compiles the plans (their estimated cost passes jit_above_cost): seconds per
// round either way. Nested loops over the staged rows with index probes it is.
const char* const kKeyedLookupsOnly =
    "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL jit = off";

// One round's customers, accounts and contacts; dropped at commit. ord is the customer's
// position in the round, a contact's place its index in the customer's list; status is filled
// in by kClassify.
const char* const kCreateStaging =
    "CREATE TEMP TABLE merge_customers (ord integer PRIMARY KEY, customer_id text NOT NULL, name text NOT NULL,"
    "  language text NOT NULL, status text) ON COMMIT DROP;"
    "CREATE TEMP TABLE merge_accounts (ord integer NOT NULL, customer_id text NOT NULL, account_id text NOT NULL,"
    "  premise_id text NOT NULL, service_address jsonb NOT NULL, timezone text NOT NULL, zip text NOT NULL,"
    "  feeder text NOT NULL, segments text[] NOT NULL, language text NOT NULL) ON COMMIT DROP;"
    "CREATE TEMP TABLE merge_contacts (ord integer NOT NULL, customer_id text NOT NULL, place integer NOT NULL,"
    "  channel text NOT NULL, address text NOT NULL) ON COMMIT DROP";

// After the COPY: keys for the lookups below, and statistics, without which the planner takes
// a staging table for a thousand-odd rows whatever it holds.
const char* const kIndexStaging =
    "CREATE INDEX ON merge_customers (customer_id);"
    "CREATE INDEX ON merge_accounts (account_id);"
    "CREATE INDEX ON merge_accounts (ord);"
    "CREATE INDEX ON merge_contacts (customer_id, channel, address);"
    "CREATE INDEX ON merge_contacts (ord);"
    "ANALYZE merge_customers; ANALYZE merge_accounts; ANALYZE merge_contacts";

// Every consent bucket the round's contacts need, in bucket order, before anything is
// written (0006: two writers sharing buckets then queue instead of deadlocking).
const char* const kLockConsentBuckets =
    "SELECT herald.consent_lock_buckets(ARRAY(SELECT DISTINCT herald.consent_bucket(channel, address)"
    "  FROM merge_contacts))";

// The first account (by id) of each customer that another customer holds active: the PUT's
// conflict.
const char* const kAccountsOwnedElsewhere =
    "SELECT m.ord, min(m.account_id) FROM merge_accounts m JOIN herald.accounts a USING (account_id)"
    " WHERE a.active AND a.customer_id <> m.customer_id GROUP BY m.ord ORDER BY m.ord";

const char* const kDropRejected[] = {
    "DELETE FROM merge_customers WHERE ord = ANY($1::integer[])",
    "DELETE FROM merge_accounts WHERE ord = ANY($1::integer[])",
    "DELETE FROM merge_contacts WHERE ord = ANY($1::integer[])"};

// created: no such customer yet. unchanged: name, language, active accounts (every field),
// active CIS contacts (verified), a consent record for each address and a preferences row are
// already what the body says; nothing of it is written. updated: anything else. Each test is
// a join from the staged rows to the real ones by key.
const char* const kClassify[] = {
    "UPDATE merge_customers m SET status = CASE WHEN c.name = m.name AND c.language = m.language"
    "  THEN 'unchanged' ELSE 'updated' END"
    " FROM herald.customers c WHERE c.customer_id = m.customer_id",
    "UPDATE merge_customers SET status = 'created' WHERE status IS NULL",
    "UPDATE merge_customers m SET status = 'updated' WHERE m.status = 'unchanged' AND m.ord IN ("
    " SELECT u.ord FROM merge_customers u WHERE u.status = 'unchanged'"
    "  AND NOT EXISTS (SELECT 1 FROM herald.preferences p WHERE p.customer_id = u.customer_id)"
    " UNION ALL"
    " SELECT s.ord FROM merge_accounts s JOIN merge_customers u ON u.ord = s.ord AND u.status = 'unchanged'"
    "  LEFT JOIN herald.accounts a ON a.account_id = s.account_id AND a.customer_id = s.customer_id AND a.active"
    "   AND a.premise_id = s.premise_id AND a.service_address = s.service_address AND a.timezone = s.timezone"
    "   AND a.zip = s.zip AND a.feeder = s.feeder AND a.segments = s.segments AND a.language = s.language"
    "  WHERE a.account_id IS NULL"
    " UNION ALL"
    " SELECT u.ord FROM merge_customers u JOIN herald.accounts a ON a.customer_id = u.customer_id AND a.active"
    "  LEFT JOIN merge_accounts s ON s.ord = u.ord AND s.account_id = a.account_id"
    "  WHERE u.status = 'unchanged' AND s.ord IS NULL"
    " UNION ALL"
    " SELECT s.ord FROM merge_contacts s JOIN merge_customers u ON u.ord = s.ord AND u.status = 'unchanged'"
    "  LEFT JOIN herald.contacts ct ON ct.customer_id = s.customer_id AND ct.channel = s.channel"
    "   AND ct.address = s.address AND ct.verified AND ct.active AND ct.source = 'cis'"
    "  WHERE ct.contact_id IS NULL"
    " UNION ALL"
    " SELECT u.ord FROM merge_customers u JOIN herald.contacts ct ON ct.customer_id = u.customer_id AND ct.active"
    "   AND ct.source = 'cis'"
    "  LEFT JOIN merge_contacts s ON s.customer_id = ct.customer_id AND s.channel = ct.channel"
    "   AND s.address = ct.address"
    "  WHERE u.status = 'unchanged' AND s.ord IS NULL"
    " UNION ALL"
    " SELECT s.ord FROM merge_contacts s JOIN merge_customers u ON u.ord = s.ord AND u.status = 'unchanged'"
    "  WHERE NOT EXISTS (SELECT 1 FROM herald.consent_events ce WHERE ce.channel = s.channel"
    "   AND ce.address = s.address))"};

const char* const kDropUnchanged =
    "DELETE FROM merge_accounts s USING merge_customers m WHERE m.ord = s.ord AND m.status = 'unchanged';"
    "DELETE FROM merge_contacts s USING merge_customers m WHERE m.ord = s.ord AND m.status = 'unchanged'";

// In customer id order, so two merges (or a merge and a PUT) lock customer rows in one order.
const char* const kUpsertCustomers =
    "INSERT INTO herald.customers (customer_id, name, language, created_at, updated_at)"
    " SELECT customer_id, name, language, $1::timestamptz, $1::timestamptz FROM merge_customers"
    " WHERE status <> 'unchanged' ORDER BY customer_id"
    " ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name, language = excluded.language,"
    "  updated_at = excluded.updated_at";

// As the PUT: an account moves only from a customer that no longer has it active. A row a
// concurrent writer claimed since kAccountsOwnedElsewhere is skipped; the round then runs again.
const char* const kUpsertAccounts =
    "INSERT INTO herald.accounts (account_id, customer_id, premise_id, service_address, timezone, zip,"
    "  feeder, segments, language, active)"
    " SELECT account_id, customer_id, premise_id, service_address, timezone, zip, feeder, segments, language, true"
    " FROM merge_accounts ORDER BY account_id"
    " ON CONFLICT (account_id) DO UPDATE SET customer_id = excluded.customer_id,"
    "  premise_id = excluded.premise_id, service_address = excluded.service_address,"
    "  timezone = excluded.timezone, zip = excluded.zip, feeder = excluded.feeder,"
    "  segments = excluded.segments, language = excluded.language, active = true"
    " WHERE herald.accounts.customer_id = excluded.customer_id OR NOT herald.accounts.active";

const char* const kCountStagedAccounts = "SELECT count(*) FROM merge_accounts";

const char* const kDeactivateDroppedAccounts =
    "UPDATE herald.accounts a SET active = false FROM merge_customers m"
    " WHERE a.customer_id = m.customer_id AND m.status = 'updated' AND a.active"
    "   AND NOT EXISTS (SELECT 1 FROM merge_accounts s WHERE s.account_id = a.account_id"
    "                   AND s.customer_id = a.customer_id)";

// The consent triggers stand aside while the round writes contacts and their initial consent
// (0016): the round holds every bucket of its contacts and does their work in its statements.
const char* const kConsentGiven = "SELECT set_config('herald.consent_given', 'on', true)";
const char* const kConsentByTriggers = "SELECT set_config('herald.consent_given', '', true)";

// A new contact row starts with its address's current (topic-less) consent, what 0002's
// per-row trigger would have read. Contacts are written in the order the body lists them, as
// the PUT writes them (their ids order them in the customer's JSON).
const char* const kUpsertContacts =
    "INSERT INTO herald.contacts (customer_id, channel, address, verified, source, active, consent,"
    "  created_at, updated_at)"
    " SELECT s.customer_id, s.channel, s.address, true, 'cis', true,"
    "  coalesce((SELECT ce.state FROM herald.consent_events ce"
    "            WHERE ce.channel = s.channel AND ce.address = s.address AND ce.topic IS NULL"
    "            ORDER BY ce.id DESC LIMIT 1), 'opted_in'),"
    "  $1::timestamptz, $1::timestamptz"
    " FROM merge_contacts s ORDER BY s.customer_id, s.place"
    " ON CONFLICT (customer_id, channel, address) DO UPDATE SET verified = true, source = 'cis',"
    "  active = true, updated_at = excluded.updated_at"
    " WHERE NOT (herald.contacts.verified AND herald.contacts.active AND herald.contacts.source = 'cis')";

// Dropped contacts stay as rows (history); contacts the customer added on the web stay active.
const char* const kDeactivateDroppedContacts =
    "UPDATE herald.contacts ct SET active = false, updated_at = $1::timestamptz FROM merge_customers m"
    " WHERE ct.customer_id = m.customer_id AND m.status = 'updated' AND ct.active AND ct.source = 'cis'"
    "   AND NOT EXISTS (SELECT 1 FROM merge_contacts s WHERE s.customer_id = ct.customer_id"
    "                   AND s.channel = ct.channel AND s.address = ct.address)";

// An address with no consent history gets the CIS opt-in once, in the name of the first
// customer of the round that gives it (the one a PUT of each in turn would have recorded). Its
// contacts are opted in already (no history), so 0006's trigger would have nothing to update.
const char* const kInitialConsent =
    "INSERT INTO herald.consent_events (channel, address, state, source, evidence, recorded_at)"
    " SELECT f.channel, f.address, 'opted_in', 'cis', 'customer ' || f.customer_id || ' from ' || $2,"
    "  $1::timestamptz"
    " FROM (SELECT DISTINCT ON (channel, address) channel, address, customer_id FROM merge_contacts"
    "       ORDER BY channel, address, ord) f"
    " WHERE NOT EXISTS (SELECT 1 FROM herald.consent_events ce"
    "                   WHERE ce.channel = f.channel AND ce.address = f.address)";

// A customer without preferences starts from the configured defaults, logged as a change.
const char* const kDefaultPreferences =
    "WITH added AS ("
    " INSERT INTO herald.preferences (customer_id, topics, quiet_hours_enabled, quiet_start, quiet_end,"
    "  language, updated_at)"
    " SELECT m.customer_id, $2::jsonb, $3, $4, $5, $6, $1::timestamptz FROM merge_customers m"
    " WHERE m.status <> 'unchanged'"
    "   AND NOT EXISTS (SELECT 1 FROM herald.preferences p WHERE p.customer_id = m.customer_id)"
    " ORDER BY m.customer_id"
    " ON CONFLICT (customer_id) DO NOTHING RETURNING customer_id)"
    " INSERT INTO herald.preference_changes (customer_id, actor, old_value, new_value, changed_at)"
    " SELECT customer_id, $7, NULL, $8::jsonb, $1::timestamptz FROM added ORDER BY customer_id";

const char* const kStatuses = "SELECT ord, status FROM merge_customers ORDER BY ord";

const std::vector<std::string> kCustomerColumns{"ord", "customer_id", "name", "language"};
const std::vector<std::string> kAccountColumns{"ord",      "customer_id", "account_id", "premise_id", "service_address",
                                               "timezone", "zip",         "feeder",     "segments",   "language"};
const std::vector<std::string> kContactColumns{"ord", "customer_id", "place", "channel", "address"};

// A concurrent writer took an account between the check and the write: the round runs again.
struct AccountClaimedMeanwhile : std::runtime_error {
  AccountClaimedMeanwhile() : std::runtime_error("an account was claimed by another writer during the merge") {}
};

// Postgres array literal of text: {"a","b"}, each element quoted with " and \ escaped.
std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string integer_array(const std::vector<int>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(items[i]);
  }
  out += '}';
  return out;
}

// The same JSON the PUT stores (keys in one order, empty parts kept).
std::string service_address_text(const ServiceAddress& a) {
  return Json{{"line1", a.line1}, {"line2", a.line2}, {"city", a.city}, {"state", a.state}, {"zip", a.zip}}.dump();
}

void stage(pqxx::work& w, const std::vector<const Customer*>& round) {
  CopyLine line;
  {
    CopyWriter copy(w, "merge_customers", kCustomerColumns);
    for (std::size_t i = 0; i < round.size(); ++i) {
      const Customer& c = *round[i];
      line.clear();
      line.integer(static_cast<long long>(i)).text(c.customer_id).text(c.name).text(c.language);
      copy.write(line);
    }
    copy.complete();
  }
  {
    CopyWriter copy(w, "merge_accounts", kAccountColumns);
    for (std::size_t i = 0; i < round.size(); ++i) {
      const Customer& c = *round[i];
      for (const Account& a : c.accounts) {
        line.clear();
        line.integer(static_cast<long long>(i))
            .text(c.customer_id)
            .text(a.account_id)
            .text(a.premise_id)
            .text(service_address_text(a.service_address))
            .text(a.timezone)
            .text(a.service_address.zip)
            .text(a.feeder)
            .text(text_array(a.segments))
            .text(a.language);
        copy.write(line);
      }
    }
    copy.complete();
  }
  {
    CopyWriter copy(w, "merge_contacts", kContactColumns);
    for (std::size_t i = 0; i < round.size(); ++i) {
      const Customer& c = *round[i];
      std::set<std::pair<Channel, std::string>> seen;  // the same (channel, address) twice is one contact
      long long position = 0;
      for (const Contact& k : c.contacts) {
        if (!seen.emplace(k.channel, k.address).second) continue;
        line.clear();
        line.integer(static_cast<long long>(i))
            .text(c.customer_id)
            .integer(position++)
            .text(to_string(k.channel))
            .text(k.address);
        copy.write(line);
      }
    }
    copy.complete();
  }
}

ApiError account_owned_elsewhere(const std::string& account_id) {
  return {ErrorKind::conflict, "account_owned_elsewhere", "account " + account_id + " belongs to another customer",
          "accounts"};
}

std::optional<MergeStatus> status_of(std::string_view s) {
  if (s == "created") return MergeStatus::created;
  if (s == "updated") return MergeStatus::updated;
  if (s == "unchanged") return MergeStatus::unchanged;
  return std::nullopt;
}

// One round in one transaction; results by position in `round`.
std::vector<MergeResult> merge_round(pqxx::work& w, const std::vector<const Customer*>& round,
                                     const Preferences& default_prefs, std::string_view actor, TimePoint now) {
  std::vector<MergeResult> results(round.size());
  const std::string at = format_time(now);
  w.exec(kKeyedLookupsOnly);
  w.exec(kCreateStaging);
  stage(w, round);
  w.exec(kIndexStaging);
  w.exec(kLockConsentBuckets);

  std::vector<int> rejected;
  for (const auto& row : w.exec(kAccountsOwnedElsewhere)) {
    const int ord = row[0].as<int>();
    results[static_cast<std::size_t>(ord)].error = account_owned_elsewhere(row[1].c_str());
    rejected.push_back(ord);
  }
  if (!rejected.empty()) {
    const std::string ords = integer_array(rejected);
    for (const char* drop : kDropRejected) w.exec_params(drop, ords);
  }

  for (const char* step : kClassify) w.exec(step);
  w.exec(kDropUnchanged);
  w.exec_params(kUpsertCustomers, at);
  const auto accounts_written = w.exec(kUpsertAccounts).affected_rows();
  if (accounts_written != w.exec(kCountStagedAccounts)[0][0].as<std::size_t>()) throw AccountClaimedMeanwhile();
  w.exec(kDeactivateDroppedAccounts);
  w.exec(kConsentGiven);
  w.exec_params(kUpsertContacts, at);
  w.exec_params(kDeactivateDroppedContacts, at);
  w.exec_params(kInitialConsent, at, std::string(actor));
  w.exec(kConsentByTriggers);
  w.exec_params(kDefaultPreferences, at, topics_db_json(default_prefs), default_prefs.quiet_hours.enabled,
                default_prefs.quiet_hours.start.minutes, default_prefs.quiet_hours.end.minutes, default_prefs.language,
                std::string(actor), to_json(default_prefs).dump());

  for (const auto& row : w.exec(kStatuses)) {
    const auto status = status_of(text_of(row[1]));
    if (!status) throw std::runtime_error("merge left customer " + text_of(row[0]) + " unclassified");
    results[row[0].as<std::size_t>()].status = *status;
  }
  return results;
}

}  // namespace

std::string_view to_string(MergeStatus s) {
  switch (s) {
    case MergeStatus::created: return "created";
    case MergeStatus::updated: return "updated";
    case MergeStatus::unchanged: return "unchanged";
    case MergeStatus::rejected: return "rejected";
  }
  return "rejected";
}

bool MergeRound::add(const Customer& customer) {
  if (customers_.count(customer.customer_id)) return false;
  for (const auto& a : customer.accounts)
    if (accounts_.count(a.account_id)) return false;
  customers_.insert(customer.customer_id);
  for (const auto& a : customer.accounts) accounts_.insert(a.account_id);
  return true;
}

void MergeRound::clear() {
  customers_.clear();
  accounts_.clear();
}

std::vector<MergeResult> merge_customers(Database& db, const std::vector<Customer>& customers,
                                         const Preferences& default_prefs, std::string_view actor, TimePoint now) {
  std::vector<MergeResult> results(customers.size());
  std::size_t next = 0;
  MergeRound keys;
  while (next < customers.size()) {
    std::vector<const Customer*> round;
    std::vector<std::size_t> positions;
    keys.clear();
    for (; next < customers.size() && keys.add(customers[next]); ++next) {
      round.push_back(&customers[next]);
      positions.push_back(next);
    }
    std::vector<MergeResult> merged;
    for (int attempt = 0;; ++attempt) {
      try {
        retry_rolled_back([&] {
          with_connection(db, [&](pqxx::connection& c) {
            pqxx::work w(c);
            merged = merge_round(w, round, default_prefs, actor, now);
            w.commit();
          });
        });
        break;
      } catch (const AccountClaimedMeanwhile&) {
        if (attempt >= 2) throw;
      }
    }
    for (std::size_t i = 0; i < round.size(); ++i) results[positions[i]] = std::move(merged[i]);
  }
  return results;
}

}  // namespace herald::store
