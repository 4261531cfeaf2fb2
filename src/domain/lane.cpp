// Names of the dispatch lanes.
#include "herald/domain/lane.hpp"

#include <array>
#include <utility>

namespace herald {

namespace {

constexpr std::array<std::pair<std::string_view, Lane>, 4> kLaneNames{
    {{"verification", Lane::verification}, {"urgent", Lane::urgent}, {"outage", Lane::outage}, {"standard", Lane::standard}}};

}  // namespace

std::string_view to_string(Lane l) {
  for (const auto& [name, lane] : kLaneNames)
    if (lane == l) return name;
  return "standard";
}

std::optional<Lane> parse_lane(std::string_view s) {
  for (const auto& [name, lane] : kLaneNames)
    if (name == s) return lane;
  return std::nullopt;
}

}  // namespace herald
