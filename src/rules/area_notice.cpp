// Area notices: the target of a notice.broadcast read from its data, and its urgency.
#include "herald/rules/area_notice.hpp"

namespace herald::rules {

namespace {

constexpr std::size_t kMaxEntryLength = 128;
constexpr const char* kListNames[] = {"zips", "feeders", "segments", "premise_ids"};

}  // namespace

bool is_area_notice(const Event& e) { return e.type == kAreaNoticeType && e.account_id.empty(); }

Result<AreaTarget> parse_area_target(const Json& data) {
  const auto missing = [] {
    return invalid("data.target", "required",
                   "data.target is required for a notice.broadcast without an account_id: "
                   "{\"zips\": [...], \"feeders\": [...], \"segments\": [...], \"premise_ids\": [...]}");
  };
  if (!data.is_object()) return missing();
  const auto it = data.find("target");
  if (it == data.end() || it->is_null()) return missing();
  if (!it->is_object())
    return invalid("data.target", "invalid_type", "data.target must be an object of zips, feeders, segments, premise_ids");
  AreaTarget target;
  std::vector<std::string>* lists[] = {&target.zips, &target.feeders, &target.segments, &target.premise_ids};
  for (const auto& [key, value] : it->items()) {
    std::size_t k = 0;
    while (k < std::size(kListNames) && key != kListNames[k]) ++k;
    const std::string field = "data.target." + key;
    if (k == std::size(kListNames))
      return invalid(field, "unknown_field", field + " is not a target (zips, feeders, segments, premise_ids)");
    if (value.is_null()) continue;
    if (!value.is_array()) return invalid(field, "invalid_type", field + " must be an array of strings");
    for (std::size_t i = 0; i < value.size(); ++i) {
      const auto& entry = value[i];
      const std::string item = field + "[" + std::to_string(i) + "]";
      if (!entry.is_string() || entry.get_ref<const std::string&>().empty())
        return invalid(item, "invalid_type", item + " must be a non-empty string");
      const auto& text = entry.get_ref<const std::string&>();
      if (text.size() > kMaxEntryLength)
        return invalid(item, "too_long", item + " is longer than " + std::to_string(kMaxEntryLength) + " bytes");
      for (unsigned char c : text)
        if (c < 0x20 || c == 0x7f) return invalid(item, "control_character", item + " holds a control character");
      lists[k]->push_back(text);
    }
  }
  if (target.empty())
    return invalid("data.target", "empty_target", "data.target names no zips, feeders, segments or premise_ids");
  return target;
}

bool immediate_urgency(const Event& e) {
  if (!e.data.is_object()) return false;
  const auto it = e.data.find("urgency");
  return it != e.data.end() && it->is_string() && it->get_ref<const std::string&>() == "immediate";
}

}  // namespace herald::rules
