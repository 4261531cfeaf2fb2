// The intake loop's SQL: claim new events, load their recipients, write messages and outcomes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// What one claimed event became: the messages to write, or why it was rejected.
struct EventOutcome {
  std::int64_t seq = 0;
  std::optional<ApiError> rejection;
  std::vector<Message> messages;
  std::vector<Json> decisions;  // one explanation per message, same order
};

// Everything the rules need about the recipients of a batch, keyed by account id.
using RecipientContexts = std::map<std::string, RecipientContext>;

// In one transaction: claims up to `limit` accepted events (FOR UPDATE SKIP LOCKED, oldest
// first), loads their recipients, calls `decide_all`, inserts the messages it returns,
// marks the events processed or rejected, and NOTIFYs herald_messages when any message is
// due. Returns the number of events claimed. `now` stamps created_at/processed_at.
using DecideAll = std::function<std::vector<EventOutcome>(const std::vector<Event>&, const RecipientContexts&)>;
std::size_t process_event_batch(Database& db, std::size_t limit, TimePoint now, const DecideAll& decide_all);

// Postgres array literal for a text[] parameter: {"a","b\"c"}.
std::string to_pg_text_array(const std::vector<std::string>& values);

}  // namespace herald::store
