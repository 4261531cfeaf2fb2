// The API's view of inbound messages and conversations: list items, pages, and a message's
// conversation with its replies. Addresses masked unless revealed.
#pragma once

#include "herald/domain/types.hpp"
#include "herald/store/inbound.hpp"

namespace herald::http::views {

// id, provider, provider_message_id, channel, from, to, body, received_at, customer_ids,
// conversation_id, matched, keyword, action, reply, error, handled_at.
Json inbound_json(const store::InboundRow& r, bool reveal);

// {"items": [...], "next_cursor": cursor or null}
Json inbound_page_json(const store::InboundPage& page, bool reveal);

// id, message_id, parent_id, channel, address, customer_id, account_id, expected, state,
// opened_at, expires_at, closed_at, "replies" (inbound_json each, oldest first: the customer's
// text and the reply Herald sent) and "follow_ups" (conversations it led to, the same shape).
Json conversation_json(const store::ConversationThread& t, bool reveal);

}  // namespace herald::http::views
