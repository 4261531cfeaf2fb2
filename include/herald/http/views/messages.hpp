// The API's view of the message log: list items, pages with their cursor, and one message in full.
#pragma once

#include "herald/domain/types.hpp"
#include "herald/store/messages.hpp"

namespace herald::http::views {

// id, created_at, customer_id, account_id, channel, address, type, topic, status,
// suppression_reason, gateway, body_preview, event_id, attempts, not_before, sent_at.
// The address is masked unless reveal.
Json message_summary_json(const store::MessageSummary& m, bool reveal);

// {"items": [...], "next_cursor": cursor or null}
Json message_page_json(const store::MessagePage& page, bool reveal);

// Every column, "decision" completed from the columns it was made with, "attempts",
// "receipts" and "conversation" (null here; the handler puts in the conversation the message
// opened). Unless reveal, the address is masked here and wherever the decision or a receipt's
// payload repeats it.
Json message_detail_json(const store::MessageDetail& m, bool reveal);

}  // namespace herald::http::views
