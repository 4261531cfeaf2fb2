// Message volume per time bucket, grouped by a fixed set of columns.
#include "herald/store/reports.hpp"

#include "repo_util.hpp"

namespace herald::store {

namespace {

// Buckets are cut in UTC so a report reads the same whatever the server's time zone.
const char* const kVolumeSelect = "SELECT date_trunc($3, created_at, 'UTC')";
const char* const kVolumeFrom =
    ", count(*) FROM herald.messages WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz";

}  // namespace

std::string_view to_string(TimeBucket b) {
  switch (b) {
    case TimeBucket::hour: return "hour";
    case TimeBucket::day: return "day";
    case TimeBucket::week: return "week";
    case TimeBucket::month: return "month";
  }
  return "day";
}

std::optional<TimeBucket> parse_time_bucket(std::string_view s) {
  for (auto b : {TimeBucket::hour, TimeBucket::day, TimeBucket::week, TimeBucket::month})
    if (to_string(b) == s) return b;
  return std::nullopt;
}

std::string_view to_string(VolumeGroup g) {
  switch (g) {
    case VolumeGroup::channel: return "channel";
    case VolumeGroup::type: return "type";
    case VolumeGroup::status: return "status";
    case VolumeGroup::topic: return "topic";
    case VolumeGroup::gateway: return "gateway";
  }
  return "channel";
}

std::optional<VolumeGroup> parse_volume_group(std::string_view s) {
  for (auto g : {VolumeGroup::channel, VolumeGroup::type, VolumeGroup::status, VolumeGroup::topic,
                 VolumeGroup::gateway})
    if (to_string(g) == s) return g;
  return std::nullopt;
}

std::vector<VolumeRow> volume_report(Database& db, const VolumeQuery& q) {
  // Column names go into the SQL text; they come only from the enum, never from the request.
  std::string columns;
  for (auto g : q.group_by) columns += ", " + std::string(to_string(g));
  const std::string sql =
      std::string(kVolumeSelect) + columns + kVolumeFrom + " GROUP BY 1" + columns + " ORDER BY 1" + columns;

  std::vector<VolumeRow> out;
  with_connection(db, [&](pqxx::connection& c) {
    out.clear();
    pqxx::nontransaction n(c);
    for (const auto& row : n.exec_params(sql, format_time(q.from), format_time(q.to), std::string(to_string(q.bucket)))) {
      VolumeRow r;
      r.bucket = time_of(row[0]);
      for (std::size_t i = 0; i < q.group_by.size(); ++i) {
        const auto& f = row[static_cast<int>(i + 1)];
        r.groups.push_back(f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str()));
      }
      r.count = row[static_cast<int>(q.group_by.size() + 1)].as<std::int64_t>();
      out.push_back(std::move(r));
    }
  });
  return out;
}

}  // namespace herald::store
