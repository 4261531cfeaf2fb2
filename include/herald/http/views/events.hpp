// The API's view of an event (GET /v1/events/{id}, and a duplicate POST's answer).
#pragma once

#include "herald/domain/types.hpp"
#include "herald/store/events.hpp"

namespace herald::http::views {

// {"event_id","type","account_id","occurred_at","data","status","error"?,"message_ids":[...],
//  "received_at","processed_at"?}
Json event_json(const store::StoredEvent& e);

}  // namespace herald::http::views
