// The API's view of the volume report: JSON rows keyed by column, or the same as CSV.
#include "herald/http/views/reports.hpp"

#include "herald/http/csv.hpp"

namespace herald::http::views {

Json volume_report_json(const std::vector<store::VolumeRow>& rows, const store::VolumeQuery& q) {
  Json out = Json::array();
  for (const auto& row : rows) {
    Json r = {{"bucket", format_time(row.bucket)}};
    for (std::size_t i = 0; i < q.group_by.size() && i < row.groups.size(); ++i)
      r[std::string(to_string(q.group_by[i]))] = row.groups[i] ? Json(*row.groups[i]) : Json();
    r["count"] = row.count;
    out.push_back(std::move(r));
  }
  return {{"rows", std::move(out)},
          {"from", format_time(q.from)},
          {"to", format_time(q.to)},
          {"bucket", std::string(to_string(q.bucket))}};
}

std::string volume_report_csv(const std::vector<store::VolumeRow>& rows, const store::VolumeQuery& q) {
  std::vector<std::string> header{"bucket"};
  for (auto g : q.group_by) header.emplace_back(to_string(g));
  header.push_back("count");
  std::vector<std::vector<std::string>> lines;
  for (const auto& row : rows) {
    std::vector<std::string> line{format_time(row.bucket)};
    for (std::size_t i = 0; i < q.group_by.size(); ++i)
      line.push_back(i < row.groups.size() && row.groups[i] ? *row.groups[i] : std::string());
    line.push_back(std::to_string(row.count));
    lines.push_back(std::move(line));
  }
  return to_csv(header, lines);
}

}  // namespace herald::http::views
