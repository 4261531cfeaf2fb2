// The API's view of outages: one outage (with counts and history) and the list's items.
#pragma once

#include "herald/domain/types.hpp"
#include "herald/store/outages.hpp"

namespace herald::http::views {

// {"outage_id", "status", "kind", "cause", "etr", "planned_start", "planned_end", "created_at",
//  "updated_at", "ended_at", "affected": {"premise_ids" (when at most 1000), "premise_count",
//  "feeders", "zips"}}
Json outage_json(const store::StoredOutage& o);

// outage_json plus "counts": {"affected" (customers), "accounts", "notified": {channel:
// {status: n}}, "notices", "reports"} and "history": [{"at", "actor", "source", "status",
// "changes"}], oldest first.
Json outage_detail_json(const store::OutageDetail& d);

}  // namespace herald::http::views
