// Delivery receipts: stored against the message with that provider id; statuses only move forward.
#include "herald/store/receipts.hpp"

#include "repo_util.hpp"

namespace herald::store {

namespace {

// The provider id belongs to the attempt the provider accepted (0003_message_queue.sql), so a
// receipt for any accepted attempt finds its message. Provider ids are unique per provider in
// practice; if two gateways ever reused one, the oldest attempt wins (receipts name no gateway).
// The last column says the attempt is not the message's latest accepted one (a redialled call's
// first call); a message without a provider id of its own takes the attempt's receipt.
const char* const kLockMessageByProviderId =
    "SELECT m.id, m.status, a.gateway, coalesce(m.provider_id <> a.provider_id, false) FROM herald.message_attempts a"
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

const char* const kUnansweredCall = R"SQL(
SELECT m.urgent, m.expires_at, a.timezone, p.quiet_hours_enabled, p.quiet_start, p.quiet_end,
       (SELECT count(DISTINCT r.provider_id) FROM herald.delivery_receipts r
        WHERE r.message_id = m.id AND r.status = 'undelivered' AND r.error_code IN ('busy', 'no-answer'))
FROM herald.messages m
JOIN herald.accounts a ON a.account_id = m.account_id
LEFT JOIN herald.preferences p ON p.customer_id = m.customer_id
WHERE m.id = $1 AND m.channel = 'voice' AND m.status = 'undelivered')SQL";

// Back to queued: the status trigger of 0010 takes it out of messages_by_status's undelivered.
const char* const kRequeueMessage =
    "UPDATE herald.messages SET status = 'queued', updated_at = $2::timestamptz"
    " WHERE id = $1 AND channel = 'voice' AND status = 'undelivered'";
// The lane as 0017 gives a message by its own columns: 1 urgent, 2 outage, 3 the rest.
const char* const kQueueRedial =
    "INSERT INTO herald.message_queue (message_id, due_at, lane)"
    " SELECT id, $2::timestamptz, CASE WHEN urgent THEN 1 WHEN topic = 'outage' THEN 2 ELSE 3 END"
    " FROM herald.messages WHERE id = $1"
    " ON CONFLICT (message_id) DO NOTHING";

const char* const kInQueue = "SELECT EXISTS (SELECT 1 FROM herald.message_queue WHERE message_id = $1)";

// The voice message's redial facts while its latest call stands busy or unanswered.
std::optional<UnansweredCall> unanswered_call(pqxx::work& w, std::int64_t message_id,
                                              const QuietHours& default_quiet_hours) {
  const auto r = w.exec_params(kUnansweredCall, message_id);
  if (r.empty()) return std::nullopt;
  UnansweredCall c;
  c.urgent = r[0][0].as<bool>();
  c.expires_at = optional_time_of(r[0][1]);
  c.timezone = r[0][2].c_str();
  c.quiet_hours = default_quiet_hours;
  if (!r[0][3].is_null()) {
    c.quiet_hours.enabled = r[0][3].as<bool>();
    c.quiet_hours.start = LocalTime{r[0][4].as<int>()};
    c.quiet_hours.end = LocalTime{r[0][5].as<int>()};
  }
  c.unanswered_calls = r[0][6].as<int>();
  return c;
}

void queue_redial(pqxx::work& w, std::int64_t message_id, TimePoint due, const std::string& now) {
  if (w.exec_params(kRequeueMessage, message_id, now).affected_rows() == 0) return;
  w.exec_params(kQueueRedial, message_id, format_time(due));
}

}  // namespace

ReceiptOutcome apply_delivery_receipt(Database& db, std::string_view provider_id, MessageStatus reported,
                                      std::string_view error_code, const Json& raw, TimePoint now,
                                      const RedialRule* redial) {
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
    const bool earlier_attempt = r[0][3].as<bool>();
    if (!earlier_attempt && status_rank(reported) > status_rank(out.status)) {
      w.exec_params(kAdvanceStatus, out.message_id, std::string(to_string(reported)), std::string(error_code), at);
      out.status = reported;
      out.changed = true;
    }
    if (redial && out.changed && reported == MessageStatus::undelivered) {
      if (const auto call = unanswered_call(w, out.message_id, redial->default_quiet_hours)) {
        if (const auto due = redial->when(*call)) {
          queue_redial(w, out.message_id, *due, at);
          out.status = MessageStatus::queued;
          out.redial_at = due;
          out.unanswered_calls = call->unanswered_calls;
        }
      }
    }
    return out;
  });
}

bool message_awaits_outcome(Database& db, std::int64_t message_id) {
  return in_transaction(db, [&](pqxx::work& w) { return w.exec_params1(kInQueue, message_id)[0].as<bool>(); });
}

}  // namespace herald::store
