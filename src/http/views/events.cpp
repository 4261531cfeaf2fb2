// The API's view of an event: its body, where it stands and the messages it made.
#include "herald/http/views/events.hpp"

namespace herald::http::views {

Json event_json(const store::StoredEvent& e) {
  Json j = {{"event_id", e.event.event_id},
            {"type", e.event.type},
            {"account_id", e.event.account_id.empty() ? Json() : Json(e.event.account_id)},
            {"occurred_at", format_time(e.event.occurred_at)},
            {"data", e.event.data},
            {"status", std::string(to_string(e.status))},
            {"message_ids", e.message_ids},
            {"received_at", format_time(e.received_at)}};
  if (!e.error.is_null()) j["error"] = e.error;
  if (e.processed_at) j["processed_at"] = format_time(*e.processed_at);
  return j;
}

}  // namespace herald::http::views
