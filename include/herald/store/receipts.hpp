// Delivery receipts from gateways, matched to messages by provider id.
#pragma once

#include <cstdint>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

struct ReceiptOutcome {
  bool matched = false;
  std::int64_t message_id = 0;
  MessageStatus status{};  // the message's status after the receipt
  bool changed = false;    // whether the receipt moved it
};

// Records a delivery receipt for the message with this provider_id (any gateway) and moves its
// status forward only (status_rank), setting delivered_at for delivered. Unknown provider_id ->
// matched=false, nothing stored. Repeated/out-of-order receipts never move a status backwards.
// `now` is when the receipt arrived: received_at, updated_at, and sent_at/delivered_at when set.
ReceiptOutcome apply_delivery_receipt(Database& db, std::string_view provider_id, MessageStatus reported,
                                      std::string_view error_code, const Json& raw, TimePoint now);

// Whether the message is still in the dispatch queue: leased or waiting for a retry, so an
// attempt's outcome, and with it the provider id a receipt is matched by, may not be recorded
// yet. A receipt that arrives before its attempt (Kannel's DLRs can) is worth asking again.
bool message_awaits_outcome(Database& db, std::int64_t message_id);

}  // namespace herald::store
