// Many customers at once: new ones copied straight into the tables, the others staged with COPY and merged
// with one statement per table.
#include "herald/store/customer_batch.hpp"

#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include "copy_line.hpp"
#include "herald/domain/json_io.hpp"
#include "pg_array.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

// Every statement below looks rows of the real tables up by key, for a staged round of at most
// a few tens of thousands of customers. Left to itself the planner hashes or sorts whole tables
// for them (rebuilding the hash of all contacts for each customer, inside kClassify's
// subqueries), and compiles the plans (their estimated cost passes jit_above_cost): seconds per
// round either way. Nested loops over the staged rows with index probes it is.
// The real tables' statistics also lag a bulk load (autovacuum analyzes them later): believing
// contacts held a few dozen rows, the classification read all of them for every round of a
// re-import. So no sequential scans either.
const char* const kKeyedLookupsOnly =
    "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL jit = off;"
    " SET LOCAL enable_seqscan = off";

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

// Session advisory lock of import-customers (one at a time per database); the key is the
// consent buckets' (7310004) neighbour.
const char* const kLockImport = "SELECT pg_advisory_lock(7310023, 0)";
const char* const kTryLockImport = "SELECT pg_try_advisory_lock(7310023, 0)";

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
    // The statistics taken before the statuses were set say no row is 'unchanged'; believing
    // them, the planner ran the lookups below once per staged customer (n² probes).
    "ANALYZE merge_customers",
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

// Which customers of the round touch anything stored: the customer itself, one of its accounts
// (any customer's, active or not), or an address with consent history. $1 customer ids in
// round order; $2/$3 account ids and their customers' places; $4/$5/$6 contacts likewise.
// Every probe is one index lookup per key.
const char* const kCustomersWithStoredKeys =
    "SELECT c.o - 1 FROM unnest($1::text[]) WITH ORDINALITY AS c(customer_id, o)"
    " WHERE EXISTS (SELECT 1 FROM herald.customers x WHERE x.customer_id = c.customer_id)"
    " UNION"
    " SELECT a.o FROM unnest($2::text[], $3::integer[]) AS a(account_id, o)"
    " WHERE EXISTS (SELECT 1 FROM herald.accounts x WHERE x.account_id = a.account_id)"
    " UNION"
    " SELECT k.o FROM unnest($4::text[], $5::text[], $6::integer[]) AS k(channel, address, o)"
    " WHERE EXISTS (SELECT 1 FROM herald.consent_events ce WHERE ce.channel = k.channel AND ce.address = k.address)";

// The consent buckets of every contact of the round, from the same lists, in bucket order
// (0006): exclusive, or shared (0023) for an import's address-disjoint rounds.
const char* const kLockRoundBuckets =
    "SELECT herald.consent_lock_buckets(ARRAY(SELECT herald.consent_bucket(k.channel, k.address)"
    "  FROM unnest($1::text[], $2::text[]) AS k(channel, address)))";
const char* const kShareRoundBuckets =
    "SELECT herald.consent_lock_buckets_shared(ARRAY(SELECT herald.consent_bucket(k.channel, k.address)"
    "  FROM unnest($1::text[], $2::text[]) AS k(channel, address)))";

const std::vector<std::string> kNewCustomerColumns{"customer_id", "name", "language", "created_at", "updated_at"};
const std::vector<std::string> kNewAccountColumns{"account_id", "customer_id", "premise_id", "service_address",
                                                  "timezone",   "zip",         "feeder",     "segments",
                                                  "language",   "active"};
const std::vector<std::string> kNewContactColumns{"customer_id", "channel", "address",    "verified",  "source",
                                                  "active",      "consent", "created_at", "updated_at"};
const std::vector<std::string> kNewConsentColumns{"channel", "address", "state", "source", "evidence", "recorded_at"};
const std::vector<std::string> kNewPreferencesColumns{"customer_id", "topics",   "quiet_hours_enabled", "quiet_start",
                                                      "quiet_end",   "language", "updated_at"};
const std::vector<std::string> kNewPreferenceChangeColumns{"customer_id", "actor", "old_value", "new_value",
                                                           "changed_at"};

const std::vector<std::string> kCustomerColumns{"ord", "customer_id", "name", "language"};
const std::vector<std::string> kAccountColumns{"ord",      "customer_id", "account_id", "premise_id", "service_address",
                                               "timezone", "zip",         "feeder",     "segments",   "language"};
const std::vector<std::string> kContactColumns{"ord", "customer_id", "place", "channel", "address"};

// A concurrent writer took an account between the check and the write: the round runs again.
struct AccountClaimedMeanwhile : std::runtime_error {
  AccountClaimedMeanwhile() : std::runtime_error("an account was claimed by another writer during the merge") {}
};

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

// The customers of a round that touch stored rows, merged by staging them and one statement per
// table; results by position in `round`. The round's consent buckets are held already.
std::vector<MergeResult> merge_known(pqxx::work& w, const std::vector<const Customer*>& round,
                                     const Preferences& default_prefs, std::string_view actor, TimePoint now) {
  std::vector<MergeResult> results(round.size());
  const std::string at = format_time(now);
  w.exec(kCreateStaging);
  stage(w, round);
  w.exec(kIndexStaging);

  std::vector<int> rejected;
  for (const auto& row : w.exec(kAccountsOwnedElsewhere)) {
    const int ord = row[0].as<int>();
    results[static_cast<std::size_t>(ord)].error = account_owned_elsewhere(row[1].c_str());
    rejected.push_back(ord);
  }
  if (!rejected.empty()) {
    const std::string ords = number_array(rejected);
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

// A customer's contacts as the merge stores them: the same (channel, address) twice is one.
std::vector<const Contact*> distinct_contacts(const Customer& c) {
  std::vector<const Contact*> out;
  std::set<std::pair<Channel, std::string_view>> seen;
  for (const Contact& k : c.contacts)
    if (seen.emplace(k.channel, k.address).second) out.push_back(&k);
  return out;
}

// The keys of a round as array literals for kCustomersWithStoredKeys and the bucket locks.
struct RoundKeys {
  std::string customer_ids, account_ids, account_places, channels, addresses, contact_places;
};

RoundKeys round_keys(const std::vector<const Customer*>& round) {
  std::vector<std::string> customers, accounts, channels, addresses;
  std::vector<int> account_places, contact_places;
  for (std::size_t i = 0; i < round.size(); ++i) {
    const Customer& c = *round[i];
    customers.push_back(c.customer_id);
    for (const Account& a : c.accounts) {
      accounts.push_back(a.account_id);
      account_places.push_back(static_cast<int>(i));
    }
    for (const Contact* k : distinct_contacts(c)) {
      channels.emplace_back(to_string(k->channel));
      addresses.push_back(k->address);
      contact_places.push_back(static_cast<int>(i));
    }
  }
  return {text_array(customers), text_array(accounts), number_array(account_places),
          text_array(channels),  text_array(addresses), number_array(contact_places)};
}

// Places in the round of customers that give an address another customer of the round gives
// too: which of them records its consent is the merge's to settle (the first, in round order).
std::set<std::size_t> sharing_an_address(const std::vector<const Customer*>& round) {
  std::map<std::pair<Channel, std::string_view>, std::size_t> first;
  std::set<std::size_t> out;
  for (std::size_t i = 0; i < round.size(); ++i)
    for (const Contact* k : distinct_contacts(*round[i])) {
      const auto [at, added] = first.emplace(std::make_pair(k->channel, std::string_view(k->address)), i);
      if (!added) {
        out.insert(at->second);
        out.insert(i);
      }
    }
  return out;
}

// Customers that touch nothing stored (no such customer, none of its accounts, no consent
// history for its addresses, no address shared within the round) end exactly as the merge
// would leave them: created, accounts active, contacts verified CIS ones opted in (an address
// without history), one CIS opt-in per address, the default preferences and their change
// record. So their rows are copied straight into the tables: no staging, no lookups, no
// conflict handling. The round holds the buckets of their addresses; a customer or account a
// concurrent writer created since kCustomersWithStoredKeys fails the COPY (unique key) and the
// round runs again.
void copy_new_customers(pqxx::work& w, const std::vector<const Customer*>& customers,
                        const Preferences& default_prefs, std::string_view actor, TimePoint now) {
  const std::string at = format_time(now);
  CopyLine line;
  {
    CopyWriter copy(w, "herald.customers", kNewCustomerColumns);
    for (const Customer* c : customers) {
      line.clear();
      line.text(c->customer_id).text(c->name).text(c->language).text(at).text(at);
      copy.write(line);
    }
    copy.complete();
  }
  {
    CopyWriter copy(w, "herald.accounts", kNewAccountColumns);
    for (const Customer* c : customers)
      for (const Account& a : c->accounts) {
        line.clear();
        line.text(a.account_id)
            .text(c->customer_id)
            .text(a.premise_id)
            .text(service_address_text(a.service_address))
            .text(a.timezone)
            .text(a.service_address.zip)
            .text(a.feeder)
            .text(text_array(a.segments))
            .text(a.language)
            .boolean(true);
        copy.write(line);
      }
    copy.complete();
  }
  w.exec(kConsentGiven);
  {
    // In the order the customer lists them, as the PUT writes them (their ids order them).
    CopyWriter copy(w, "herald.contacts", kNewContactColumns);
    for (const Customer* c : customers)
      for (const Contact* k : distinct_contacts(*c)) {
        line.clear();
        line.text(c->customer_id)
            .text(to_string(k->channel))
            .text(k->address)
            .boolean(true)
            .text("cis")
            .boolean(true)
            .text("opted_in")
            .text(at)
            .text(at);
        copy.write(line);
      }
    copy.complete();
  }
  {
    CopyWriter copy(w, "herald.consent_events", kNewConsentColumns);
    const std::string from = " from " + std::string(actor);
    for (const Customer* c : customers) {
      const std::string evidence = "customer " + c->customer_id + from;
      for (const Contact* k : distinct_contacts(*c)) {
        line.clear();
        line.text(to_string(k->channel)).text(k->address).text("opted_in").text("cis").text(evidence).text(at);
        copy.write(line);
      }
    }
    copy.complete();
  }
  w.exec(kConsentByTriggers);
  {
    const std::string topics = topics_db_json(default_prefs);
    const auto& quiet = default_prefs.quiet_hours;
    CopyWriter copy(w, "herald.preferences", kNewPreferencesColumns);
    for (const Customer* c : customers) {
      line.clear();
      line.text(c->customer_id)
          .text(topics)
          .boolean(quiet.enabled)
          .integer(quiet.start.minutes)
          .integer(quiet.end.minutes)
          .text(default_prefs.language)
          .text(at);
      copy.write(line);
    }
    copy.complete();
  }
  {
    const std::string chosen = to_json(default_prefs).dump();
    CopyWriter copy(w, "herald.preference_changes", kNewPreferenceChangeColumns);
    for (const Customer* c : customers) {
      line.clear();
      line.text(c->customer_id).text(actor).null().text(chosen).text(at);
      copy.write(line);
    }
    copy.complete();
  }
}

// One round in one transaction; results by position in `round`. Every consent bucket of the
// round is taken first, in bucket order; then the customers that touch nothing stored are
// copied in, the others merged.
std::vector<MergeResult> merge_round(pqxx::work& w, const std::vector<const Customer*>& round,
                                     const Preferences& default_prefs, std::string_view actor, TimePoint now,
                                     ConsentLocks locks) {
  w.exec(kKeyedLookupsOnly);
  const RoundKeys keys = round_keys(round);
  w.exec_params(locks == ConsentLocks::shared ? kShareRoundBuckets : kLockRoundBuckets, keys.channels, keys.addresses);
  std::set<std::size_t> known = sharing_an_address(round);
  for (const auto& row : w.exec_params(kCustomersWithStoredKeys, keys.customer_ids, keys.account_ids,
                                       keys.account_places, keys.channels, keys.addresses, keys.contact_places))
    known.insert(row[0].as<std::size_t>());

  std::vector<MergeResult> results(round.size());
  std::vector<const Customer*> fresh, merged;
  std::vector<std::size_t> merged_places;
  for (std::size_t i = 0; i < round.size(); ++i) {
    if (known.count(i)) {
      merged.push_back(round[i]);
      merged_places.push_back(i);
    } else {
      fresh.push_back(round[i]);
      results[i].status = MergeStatus::created;
    }
  }
  if (!merged.empty()) {
    auto out = merge_known(w, merged, default_prefs, actor, now);
    for (std::size_t i = 0; i < merged.size(); ++i) results[merged_places[i]] = std::move(out[i]);
  }
  if (!fresh.empty()) copy_new_customers(w, fresh, default_prefs, actor, now);
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
                                         const Preferences& default_prefs, std::string_view actor, TimePoint now,
                                         ConsentLocks locks) {
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
            merged = merge_round(w, round, default_prefs, actor, now, locks);
            w.commit();
          });
        });
        break;
      } catch (const AccountClaimedMeanwhile&) {
        if (attempt >= 2) throw;
      } catch (const pqxx::unique_violation&) {
        // A concurrent writer stored a customer or account copy_new_customers took for new.
        if (attempt >= 2) throw;
      }
    }
    for (std::size_t i = 0; i < round.size(); ++i) results[positions[i]] = std::move(merged[i]);
  }
  return results;
}

struct ImportLock::Held {
  pqxx::connection connection;
  explicit Held(const std::string& url) : connection(url) {}
};

ImportLock::ImportLock(const Database& db, const std::function<void()>& waiting)
    : held_(std::make_unique<Held>(db.url())) {
  pqxx::nontransaction n(held_->connection);
  if (n.exec(kTryLockImport)[0][0].as<bool>()) return;
  waiting();
  n.exec(kLockImport);
}

// Closing the connection releases the session lock.
ImportLock::~ImportLock() = default;

}  // namespace herald::store
