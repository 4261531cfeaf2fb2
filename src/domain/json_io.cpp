// Reading API bodies: JSON text with a nesting limit, language tags and time zone names.
#include "herald/domain/json_io.hpp"

#include <stdexcept>

#include <date/tz.h>

namespace herald {

bool is_language_tag(std::string_view s) {
  auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto is_alnum = [&](char c) { return is_alpha(c) || (c >= '0' && c <= '9'); };
  std::size_t dash = s.find('-');
  std::string_view primary = s.substr(0, dash);
  if (primary.size() < 2 || primary.size() > 3) return false;
  for (char c : primary) {
    if (!is_alpha(c)) return false;
  }
  if (dash == std::string_view::npos) return true;
  std::string_view sub = s.substr(dash + 1);
  if (sub.size() < 2 || sub.size() > 8) return false;
  for (char c : sub) {
    if (!is_alnum(c)) return false;
  }
  return true;
}

bool is_known_time_zone(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  try {
    date::locate_zone(name);
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

Result<Json> parse_json_body(std::string_view text, int max_depth) {
  bool too_deep = false;
  // The callback sees the depth before each container opens; discarding a too-deep container
  // keeps the DOM shallow while the parser (iterative, no recursion) checks the syntax.
  Json::parser_callback_t limit = [&](int depth, Json::parse_event_t event, Json&) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        depth >= max_depth) {
      too_deep = true;
      return false;
    }
    return true;
  };
  Json parsed = Json::parse(text.begin(), text.end(), limit, /*allow_exceptions=*/false);
  if (parsed.is_discarded() && !too_deep) {
    return malformed("", "invalid_json", "the body is not valid JSON");
  }
  if (too_deep) {
    return malformed("", "json_too_deep",
                       "the body nests deeper than " + std::to_string(max_depth) + " levels");
  }
  return parsed;
}

}  // namespace herald
