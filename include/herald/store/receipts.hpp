// Delivery receipts from gateways, matched to messages by provider id.
#pragma once

#include <cstdint>
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
};

// Records a delivery receipt for the message with this provider_id (any gateway) and moves its
// status forward only (status_rank), setting delivered_at for delivered. A receipt for an
// earlier attempt than the message's latest accepted one (a redialled call's first call) is
// stored but moves nothing. Unknown provider_id ->
// matched=false, nothing stored. Repeated/out-of-order receipts never move a status backwards.
// `now` is when the receipt arrived: received_at, updated_at, and sent_at/delivered_at when set.
ReceiptOutcome apply_delivery_receipt(Database& db, std::string_view provider_id, MessageStatus reported,
                                      std::string_view error_code, const Json& raw, TimePoint now);

// The voice message's redial facts while its latest call stands busy or unanswered (status
// undelivered); nullopt for any other message or status. A customer without a preferences row
// has `default_quiet_hours`.
std::optional<UnansweredCall> unanswered_call(Database& db, std::int64_t message_id, const QuietHours& default_quiet_hours);

// Puts an undelivered voice message back in the dispatch queue, due at `due` (in the lane of an
// urgent or outage message, else the standard one), status queued: the next call. False
// (nothing changed) when it is no longer undelivered.
bool queue_redial(Database& db, std::int64_t message_id, TimePoint due, TimePoint now);

// Whether the message is still in the dispatch queue: leased or waiting for a retry, so an
// attempt's outcome, and with it the provider id a receipt is matched by, may not be recorded
// yet. A receipt that arrives before its attempt (Kannel's DLRs can) is worth asking again.
bool message_awaits_outcome(Database& db, std::int64_t message_id);

}  // namespace herald::store
