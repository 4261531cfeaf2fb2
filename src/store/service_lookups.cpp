// The service keywords' reads and the SMS registration link.
#include "herald/store/service_lookups.hpp"

#include "repo_util.hpp"

namespace herald::store {

namespace {

// Recent billing messages of the account name their events; of those, the newest bill wins.
const char* const kLatestBill =
    "SELECT e.event_id, e.type, e.data->>'amount_due', coalesce(e.data->>'due_date', ''), e.occurred_at"
    " FROM (SELECT DISTINCT event_seq FROM (SELECT event_seq FROM herald.messages"
    "       WHERE account_id = $1 AND type = ANY($2::text[]) ORDER BY id DESC LIMIT 50) recent) r"
    " JOIN herald.events e ON e.seq = r.event_seq"
    " WHERE e.status <> 'rejected' AND e.data ? 'amount_due'"
    " ORDER BY e.occurred_at DESC, e.seq DESC LIMIT 1";

const char* const kAccountColumns =
    "SELECT a.customer_id, a.account_id, a.premise_id, coalesce(a.service_address->>'line1', ''), c.language"
    " FROM herald.accounts a JOIN herald.customers c ON c.customer_id = a.customer_id";

const char* const kUpsertContact =
    "INSERT INTO herald.contacts (customer_id, channel, address, verified, source, active, created_at, updated_at)"
    " VALUES ($1, 'sms', $2, true, 'sms', true, $3::timestamptz, $3::timestamptz)"
    " ON CONFLICT (customer_id, channel, address)"
    " DO UPDATE SET verified = true, active = true, updated_at = EXCLUDED.updated_at";

const char* const kConsentOptIn =
    "INSERT INTO herald.consent_events (channel, address, state, source, evidence, recorded_at)"
    " VALUES ('sms', $1, 'opted_in', 'sms', $2, $3::timestamptz)";

std::optional<RegisteredAccount> account_of(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  return RegisteredAccount{r[0][0].c_str(), r[0][1].c_str(), r[0][2].c_str(), r[0][3].c_str(), r[0][4].c_str()};
}

}  // namespace

std::optional<LatestBill> latest_bill(Database& db, std::string_view account_id) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<LatestBill> {
    const auto r = w.exec_params(kLatestBill, std::string(account_id), std::string(kBillTypes));
    if (r.empty()) return std::nullopt;
    return LatestBill{r[0][0].c_str(), r[0][1].c_str(), text_of(r[0][2]), r[0][3].c_str(), time_of(r[0][4])};
  });
}

std::optional<RegisteredAccount> account_by_number_and_zip(Database& db, std::string_view account_id,
                                                           std::string_view zip) {
  const std::string sql = std::string(kAccountColumns) +
                          " WHERE a.account_id = $1 AND a.active"
                          " AND left(coalesce(nullif(a.zip, ''), a.service_address->>'zip', ''), 5) = $2";
  return in_transaction(
      db, [&](pqxx::work& w) { return account_of(w.exec_params(sql, std::string(account_id), std::string(zip))); });
}

std::optional<RegisteredAccount> account_by_number(Database& db, std::string_view account_id) {
  const std::string sql = std::string(kAccountColumns) + " WHERE a.account_id = $1 AND a.active";
  return in_transaction(db, [&](pqxx::work& w) { return account_of(w.exec_params(sql, std::string(account_id))); });
}

void link_sms_contact(Database& db, const RegisteredAccount& account, std::string_view address,
                      std::string_view evidence, TimePoint now) {
  const std::string at = format_time(now);
  in_transaction(db, [&](pqxx::work& w) {
    w.exec_params(kUpsertContact, account.customer_id, std::string(address), at);
    w.exec_params(kConsentOptIn, std::string(address), std::string(evidence), at);
  });
}

}  // namespace herald::store
