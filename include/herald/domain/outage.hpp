// Outages as the API and herald.events carry them: statuses, the affected area, and the
// parsing of a PUT /v1/outages/{id} body (or an outage.updated event's data).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"

namespace herald {

// planned, reported, confirmed, crew_assigned, etr_updated, restored, cancelled.
bool is_outage_status(std::string_view status);
// restored and cancelled end an outage; nothing is told about it after them.
bool is_final_outage_status(std::string_view status);

struct OutageArea {
  std::vector<std::string> premise_ids, feeders, zips;  // deduplicated, in the order given
};

// A change to an outage. Absent members keep what is stored; an explicit null clears etr,
// planned_start or planned_end; `affected`, when present, replaces the whole area.
struct OutageUpdate {
  std::string outage_id;
  std::string status;                  // required
  std::optional<std::string> kind;     // planned | unplanned
  std::optional<std::string> cause;
  bool etr_given = false, planned_start_given = false, planned_end_given = false;
  std::optional<TimePoint> etr, planned_start, planned_end;
  std::optional<OutageArea> affected;
};

// Checks every field and names the first bad one (`base` prefixes field paths: "data." for
// an event). outage_id: from the path (non-empty, at most 128 characters, no control or
// slash characters). Area members: arrays of non-empty strings of at most 128 characters.
Result<OutageUpdate> parse_outage_update(const Json& body, std::string_view outage_id, std::string_view base = "");

}  // namespace herald
