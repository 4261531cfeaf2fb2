// Events received from the CIS over the API: idempotent batch insert and lookup.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// accepted: stored now; duplicate: same event_id with the same body hash already stored (or
// earlier in the batch); conflict: same event_id with a different body.
enum class InsertOutcome { accepted, duplicate, conflict };
std::string_view to_string(InsertOutcome o);

struct EventInsert {
  Event event;
  std::string body_hash;  // event_body_hash of the request element
};
struct EventInsertResult {
  std::string event_id;
  InsertOutcome outcome = InsertOutcome::accepted;
  std::int64_t seq = 0;  // the stored row's seq (0 for a conflict with a row lacking one)
};

// One transaction, one multi-row statement per batch; source 'api'. Results in input order.
std::vector<EventInsertResult> insert_events(Database& db, const std::vector<EventInsert>& events);

// For events that will not be stored (their type, data or account is invalid): whether their
// event_id is already taken. In input order: duplicate (stored with the same body hash),
// conflict (another body, or a row the CIS inserted directly), or empty when the id is free.
// Idempotency answers first: a reused event_id with another body is a conflict whatever it holds.
std::vector<std::optional<InsertOutcome>> stored_outcomes(Database& db, const std::vector<EventInsert>& events);

// An event as stored, with where it stands and the messages it made.
struct StoredEvent {
  Event event;
  EventStatus status = EventStatus::accepted;
  Json error;  // null unless rejected
  std::vector<std::int64_t> message_ids;
  TimePoint received_at{};
  std::optional<TimePoint> processed_at;
};
std::optional<StoredEvent> get_event(Database& db, std::string_view event_id);

}  // namespace herald::store
