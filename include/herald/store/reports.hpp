// Aggregate message reports for the admin API.
#pragma once

#include <string>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

struct VolumeQuery {
  TimePoint from, to;                 // created_at in [from, to)
  std::string bucket = "day";         // hour | day | week | month
  std::vector<std::string> group_by;  // subset of {channel, type, status, topic, gateway}
};

// Rows {"bucket": RFC 3339, <group cols>, "count"} ordered by bucket then group columns.
// A bad bucket -> 422 field "bucket"; a bad group -> 422 field "group_by".
Result<std::vector<Json>> volume_report(Database& db, const VolumeQuery& q);

}  // namespace herald::store
