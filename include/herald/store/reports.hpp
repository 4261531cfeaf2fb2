// Aggregate message reports: message counts per time bucket, grouped by chosen columns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

enum class TimeBucket { hour, day, week, month };
std::string_view to_string(TimeBucket b);
std::optional<TimeBucket> parse_time_bucket(std::string_view s);

// The message columns a report may group by.
enum class VolumeGroup { channel, type, status, topic, gateway };
std::string_view to_string(VolumeGroup g);
std::optional<VolumeGroup> parse_volume_group(std::string_view s);

struct VolumeQuery {
  TimePoint from, to;  // created_at in [from, to); an empty range has no rows
  TimeBucket bucket = TimeBucket::day;
  std::vector<VolumeGroup> group_by;  // each at most once
};

struct VolumeRow {
  TimePoint bucket{};                             // start of the bucket, cut in UTC
  std::vector<std::optional<std::string>> groups;  // one per VolumeQuery::group_by, in its order
  std::int64_t count = 0;
};

// Ordered by bucket, then the group columns.
std::vector<VolumeRow> volume_report(Database& db, const VolumeQuery& q);

}  // namespace herald::store
