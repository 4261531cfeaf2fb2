// Parsing of outage changes (PUT /v1/outages/{id} bodies and outage.updated event data).
#include <algorithm>
#include <array>
#include <unordered_set>

#include "herald/domain/outage.hpp"
#include "herald/domain/text.hpp"
#include "json_read.hpp"

namespace herald {

namespace {

constexpr std::array<std::string_view, 7> kStatuses = {"planned",     "reported", "confirmed", "crew_assigned",
                                                       "etr_updated", "restored", "cancelled"};

using json_read::dotted;
using json_read::indexed;
using json_read::wrong_type;

// A time member: absent leaves `given` false; null sets it with no value.
std::optional<ApiError> read_time(const Json& body, std::string_view key, const std::string& field, bool& given,
                                  std::optional<TimePoint>& out) {
  auto it = body.find(key);
  if (it == body.end()) return std::nullopt;
  given = true;
  if (it->is_null()) return std::nullopt;
  if (!it->is_string()) return wrong_type(field, "an RFC 3339 time or null");
  auto t = parse_time(it->get_ref<const std::string&>());
  if (!t) return invalid(field, "invalid_time", field + " must be an RFC 3339 time with offset");
  out = *t;
  return std::nullopt;
}

std::optional<ApiError> read_id_list(const Json& area, std::string_view key, const std::string& field,
                                     std::vector<std::string>& out) {
  auto it = area.find(key);
  if (it == area.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) return wrong_type(field, "an array of strings");
  std::unordered_set<std::string_view> seen;
  seen.reserve(it->size());
  out.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    const auto name = indexed(field, i);
    if (!v.is_string()) return wrong_type(name, "a string");
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > json_read::kMaxIdLength)
      return invalid(name, "invalid_id", name + " must be 1 to 128 characters");
    if (auto bad = reject_control_characters(s, name)) return bad;
    if (seen.insert(s).second) out.push_back(s);
  }
  return std::nullopt;
}

}  // namespace

bool is_outage_status(std::string_view status) {
  return std::find(kStatuses.begin(), kStatuses.end(), status) != kStatuses.end();
}

bool is_final_outage_status(std::string_view status) { return status == "restored" || status == "cancelled"; }

Result<OutageUpdate> parse_outage_update(const Json& body, std::string_view outage_id, std::string_view base) {
  if (!body.is_object())
    return wrong_type(base.empty() ? "body" : std::string(base.substr(0, base.size() - 1)), "a JSON object");
  auto field = [&](std::string_view key) { return std::string(base) + std::string(key); };
  OutageUpdate u;
  if (outage_id.empty() || outage_id.size() > json_read::kMaxIdLength)
    return invalid(field("outage_id"), "invalid_id", "the outage id must be 1 to 128 characters");
  if (auto bad = reject_control_characters(outage_id, field("outage_id"))) return *bad;
  u.outage_id = std::string(outage_id);

  if (auto bad = json_read::read_required_string(body, "status", field("status"), u.status, 32)) return *bad;
  if (!is_outage_status(u.status))
    return invalid(field("status"), "invalid_status",
                   field("status") +
                       " must be one of planned, reported, confirmed, crew_assigned, etr_updated, "
                       "restored, cancelled");
  if (body.contains("kind") && !body["kind"].is_null()) {
    std::string kind;
    if (auto bad = json_read::read_string(body, "kind", field("kind"), kind, 16)) return *bad;
    if (kind != "planned" && kind != "unplanned")
      return invalid(field("kind"), "invalid_kind", field("kind") + " must be planned or unplanned");
    u.kind = kind;
  }
  if (body.contains("cause")) {
    std::string cause;
    if (auto bad = json_read::read_string(body, "cause", field("cause"), cause, 200)) return *bad;
    u.cause = cause;
  }
  if (auto bad = read_time(body, "etr", field("etr"), u.etr_given, u.etr)) return *bad;
  if (auto bad = read_time(body, "planned_start", field("planned_start"), u.planned_start_given, u.planned_start))
    return *bad;
  if (auto bad = read_time(body, "planned_end", field("planned_end"), u.planned_end_given, u.planned_end)) return *bad;
  if (u.planned_start && u.planned_end && *u.planned_end <= *u.planned_start)
    return invalid(field("planned_end"), "invalid_time", field("planned_end") + " must be after planned_start");

  if (auto it = body.find("affected"); it != body.end() && !it->is_null()) {
    const auto name = field("affected");
    if (!it->is_object()) return wrong_type(name, "an object with premise_ids, feeders and zips");
    OutageArea area;
    if (auto bad = read_id_list(*it, "premise_ids", dotted(name, "premise_ids"), area.premise_ids)) return *bad;
    if (auto bad = read_id_list(*it, "feeders", dotted(name, "feeders"), area.feeders)) return *bad;
    if (auto bad = read_id_list(*it, "zips", dotted(name, "zips"), area.zips)) return *bad;
    u.affected = std::move(area);
  }
  return u;
}

}  // namespace herald
