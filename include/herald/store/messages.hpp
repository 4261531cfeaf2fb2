// The message log as the admin API sees it: filtered keyset pages and one message in full.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// Empty strings / nullopt mean "no filter". from/to bound created_at (from inclusive, to
// exclusive).
struct MessageFilter {
  std::string customer_id, account_id, address, channel, type, topic, status, q;
  std::optional<TimePoint> from, to;
  int limit = 50;  // clamped to 1..500
  std::string cursor;
};

struct MessagePage {
  std::vector<Json> items;
  std::optional<std::string> next_cursor;  // absent on the last page
};

// Newest first, keyset pagination on id (opaque cursor), stable under inserts. Filters combine
// with AND; q searches body/subject (ILIKE, % and _ escaped). Addresses masked unless reveal.
// Item fields: id, created_at, customer_id, account_id, channel, address, type, topic, status,
// suppression_reason, gateway, body_preview (first 80 chars), event_id, attempts, not_before,
// sent_at. A bad cursor -> 400 "invalid_cursor".
Result<MessagePage> list_messages(Database& db, const MessageFilter& filter, bool reveal);

// The message with body/subject/html, "decision", "attempts", "receipts" and "conversation"
// (null for now). nullopt when there is no such message.
std::optional<Json> get_message_detail(Database& db, std::int64_t id, bool reveal);

}  // namespace herald::store
