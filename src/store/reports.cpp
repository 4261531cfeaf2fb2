// Message volume per time bucket, grouped by whitelisted columns.
#include "herald/store/reports.hpp"

#include <algorithm>
#include <array>

#include "repo_util.hpp"

namespace herald::store {

namespace {

// Buckets are cut in UTC so a report reads the same whatever the server's time zone.
const char* const kVolumeSelect = "SELECT date_trunc($3, created_at, 'UTC')";
const char* const kVolumeFrom =
    ", count(*) FROM herald.messages WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz";

constexpr std::array<std::string_view, 4> kBuckets{"hour", "day", "week", "month"};
// Column names go into the SQL text, so only these exact names are ever accepted.
constexpr std::array<std::string_view, 5> kGroupColumns{"channel", "type", "status", "topic", "gateway"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& names, std::string_view s) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

}  // namespace

Result<std::vector<Json>> volume_report(Database& db, const VolumeQuery& q) {
  if (!one_of(kBuckets, q.bucket))
    return invalid("bucket", "invalid_bucket", "bucket must be hour, day, week or month");
  std::vector<std::string> groups;
  for (const auto& g : q.group_by) {
    if (!one_of(kGroupColumns, g))
      return invalid("group_by", "invalid_group_by",
                           "cannot group by '" + g + "' (channel, type, status, topic, gateway)");
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  }
  if (q.to <= q.from) return invalid("to", "invalid_range", "to must be after from");

  std::string columns;
  for (const auto& g : groups) columns += ", " + g;
  std::string sql = std::string(kVolumeSelect) + columns + kVolumeFrom + " GROUP BY 1" + columns + " ORDER BY 1" +
                    columns;

  std::vector<Json> out;
  with_connection(db, [&](pqxx::connection& c) {
    out.clear();
    pqxx::nontransaction n(c);
    for (const auto& row : n.exec_params(sql, format_time(q.from), format_time(q.to), q.bucket)) {
      Json r = {{"bucket", format_time(time_of(row[0]))}};
      for (std::size_t i = 0; i < groups.size(); ++i) {
        const auto& f = row[static_cast<int>(i + 1)];
        r[groups[i]] = f.is_null() ? Json() : Json(f.c_str());
      }
      r["count"] = row[static_cast<int>(groups.size() + 1)].as<std::int64_t>();
      out.push_back(std::move(r));
    }
  });
  return out;
}

}  // namespace herald::store
