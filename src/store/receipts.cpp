// Delivery receipts: stored against the message with that provider id; statuses only move forward.
#include "herald/store/receipts.hpp"

#include "repo_util.hpp"

namespace herald::store {

namespace {

// The provider id belongs to the attempt the provider accepted (0003_message_queue.sql), so a
// receipt for any accepted attempt finds its message. Provider ids are unique per provider in
// practice; if two gateways ever reused one, the oldest attempt wins (receipts name no gateway).
const char* const kLockMessageByProviderId =
    "SELECT m.id, m.status, a.gateway FROM herald.message_attempts a"
    " JOIN herald.messages m ON m.id = a.message_id"
    " WHERE a.provider_id = $1 ORDER BY a.id LIMIT 1 FOR UPDATE OF m";

const char* const kInsertReceipt =
    "INSERT INTO herald.delivery_receipts (message_id, gateway, provider_id, status, error_code, raw, received_at)"
    " VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6::jsonb, $7::timestamptz)";

const char* const kAdvanceStatus =
    "UPDATE herald.messages SET status = $2, updated_at = $4::timestamptz,"
    " sent_at = CASE WHEN $2 IN ('sent', 'delivered') THEN COALESCE(sent_at, $4::timestamptz) ELSE sent_at END,"
    " delivered_at = CASE WHEN $2 = 'delivered' THEN $4::timestamptz ELSE delivered_at END,"
    " last_error = COALESCE(NULLIF($3, ''), last_error)"
    " WHERE id = $1";

const char* const kInQueue = "SELECT EXISTS (SELECT 1 FROM herald.message_queue WHERE message_id = $1)";

}  // namespace

ReceiptOutcome apply_delivery_receipt(Database& db, std::string_view provider_id, MessageStatus reported,
                                      std::string_view error_code, const Json& raw, TimePoint now) {
  const std::string raw_text = raw.is_null() ? "{}" : raw.dump();
  const std::string at = format_time(now);
  return in_transaction(db, [&](pqxx::work& w) {
    ReceiptOutcome out;
    const auto r = w.exec_params(kLockMessageByProviderId, std::string(provider_id));
    if (r.empty()) return out;
    out.matched = true;
    out.message_id = r[0][0].as<std::int64_t>();
    out.status = message_status_of(r[0][1]);
    w.exec_params(kInsertReceipt, out.message_id, std::string(r[0][2].c_str()), std::string(provider_id),
                  std::string(to_string(reported)), std::string(error_code), raw_text, at);
    if (status_rank(reported) > status_rank(out.status)) {
      w.exec_params(kAdvanceStatus, out.message_id, std::string(to_string(reported)), std::string(error_code), at);
      out.status = reported;
      out.changed = true;
    }
    return out;
  });
}

bool message_awaits_outcome(Database& db, std::int64_t message_id) {
  return in_transaction(db, [&](pqxx::work& w) { return w.exec_params1(kInQueue, message_id)[0].as<bool>(); });
}

}  // namespace herald::store
