// Delivery receipts from gateways, matched to messages by provider id.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/domain/unanswered_call.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

struct ReceiptOutcome {
  bool matched = false;
  std::int64_t message_id = 0;
  MessageStatus status{};  // the message's status after the receipt
  bool changed = false;    // whether the receipt moved it
  std::optional<TimePoint> redial_at;  // an unanswered call placed again: when (RedialRule)
  int unanswered_calls = 0;            // with redial_at: the calls so far that rang out or were busy
};

// Calling again after a busy or unanswered call: what the receipt's transaction needs from the
// caller. `when` gets the call's facts (a customer without a preferences row has
// `default_quiet_hours`) and says when to call again, or nullopt for not again.
struct RedialRule {
  QuietHours default_quiet_hours;
  std::function<std::optional<TimePoint>(const UnansweredCall&)> when;
};

// Records a delivery receipt for the message with this provider_id (any gateway) and moves its
// status forward only (status_rank), setting delivered_at for delivered. A receipt for an
// earlier attempt than the message's latest accepted one (a redialled call's first call) is
// stored but moves nothing. Unknown provider_id ->
// matched=false, nothing stored. Repeated/out-of-order receipts never move a status backwards.
// `now` is when the receipt arrived: received_at, updated_at, and sent_at/delivered_at when set.
// With `redial`, a voice message the receipt made undelivered is put back in the dispatch queue
// (status queued, in its lane, due when the rule says) in the same transaction as the receipt,
// so a crash cannot leave a call that should be placed again stuck as undelivered.
ReceiptOutcome apply_delivery_receipt(Database& db, std::string_view provider_id, MessageStatus reported,
                                      std::string_view error_code, const Json& raw, TimePoint now,
                                      const RedialRule* redial = nullptr);

// Whether the message is still in the dispatch queue: leased or waiting for a retry, so an
// attempt's outcome, and with it the provider id a receipt is matched by, may not be recorded
// yet. A receipt that arrives before its attempt (Kannel's DLRs can) is worth asking again.
bool message_awaits_outcome(Database& db, std::int64_t message_id);

}  // namespace herald::store
