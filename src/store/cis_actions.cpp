// CIS actions: claim a key before calling, record the answer after; answered keys stay answered.
#include "herald/store/cis_actions.hpp"

#include "repo_util.hpp"

namespace herald::store {

namespace {

// The WHERE of the upsert decides who calls: nobody when the key is answered or in flight.
const char* const kClaim =
    "INSERT INTO herald.cis_actions AS a (idempotency_key, action, request, status, account_id, conversation_id,"
    " inbound_id, created_at, updated_at)"
    " VALUES ($1, $2, $3::jsonb, 'pending', NULLIF($4, ''), NULLIF($5, '')::bigint, NULLIF($6, '')::bigint,"
    " $7::timestamptz, $7::timestamptz)"
    " ON CONFLICT (idempotency_key) DO UPDATE SET status = 'pending', updated_at = EXCLUDED.updated_at"
    " WHERE a.status = 'unavailable' OR (a.status = 'pending' AND a.updated_at < $8::timestamptz)"
    " RETURNING idempotency_key";

const char* const kSelect =
    "SELECT idempotency_key, action, status, response, reason, detail, coalesce(http_status, 0), attempts"
    " FROM herald.cis_actions WHERE idempotency_key = $1";

const char* const kRecord =
    "UPDATE herald.cis_actions SET status = $2, response = NULLIF($3, '')::jsonb, http_status = NULLIF($4, 0), reason = $5,"
    " detail = $6, attempts = attempts + $7, updated_at = $8::timestamptz,"
    " completed_at = CASE WHEN $2 IN ('ok', 'declined') THEN $8::timestamptz END"
    " WHERE idempotency_key = $1";

CisActionRow row_of(const pqxx::row& r) {
  CisActionRow out;
  out.idempotency_key = r[0].c_str();
  out.action = r[1].c_str();
  out.status = r[2].c_str();
  out.response = json_of(r[3]);
  out.reason = r[4].c_str();
  out.detail = r[5].c_str();
  out.http_status = r[6].as<long>();
  out.attempts = r[7].as<int>();
  return out;
}

std::string id_text(const std::optional<std::int64_t>& id) { return id ? std::to_string(*id) : std::string(); }

std::optional<CisActionRow> select_in(pqxx::transaction_base& t, std::string_view key) {
  const auto r = t.exec_params(kSelect, std::string(key));
  if (r.empty()) return std::nullopt;
  return row_of(r[0]);
}

}  // namespace

CisClaimResult claim_cis_action(Database& db, std::string_view idempotency_key, std::string_view action,
                                const Json& request, const CisActionOrigin& origin, TimePoint now,
                                TimePoint stale_before) {
  return in_transaction(db, [&](pqxx::work& w) {
    const auto claimed = w.exec_params(kClaim, std::string(idempotency_key), std::string(action), request.dump(),
                                       origin.account_id, id_text(origin.conversation_id), id_text(origin.inbound_id),
                                       format_time(now), format_time(stale_before));
    CisClaimResult out;
    out.row = *select_in(w, idempotency_key);
    if (!claimed.empty()) out.claim = CisClaim::claimed;
    else if (out.row.status == "pending") out.claim = CisClaim::in_flight;
    else out.claim = CisClaim::answered;
    return out;
  });
}

void record_cis_answer(Database& db, std::string_view idempotency_key, std::string_view status, const Json& response,
                       long http_status, std::string_view reason, std::string_view detail, int attempts,
                       TimePoint now) {
  in_transaction(db, [&](pqxx::work& w) {
    w.exec_params(kRecord, std::string(idempotency_key), std::string(status),
                  response.is_null() ? std::string() : response.dump(),
                  http_status, std::string(reason), std::string(detail), attempts, format_time(now));
  });
}

std::optional<CisActionRow> find_cis_action(Database& db, std::string_view idempotency_key) {
  return in_transaction(db, [&](pqxx::work& w) { return select_in(w, idempotency_key); });
}

}  // namespace herald::store
