// Lanes of event types and events, and the urgency an event may carry.
#include "herald/rules/lanes.hpp"

#include "herald/rules/area_notice.hpp"

namespace herald::rules {

Lane lane_of(const EventTypeRule& rule, const LaneOverrides& overrides) {
  if (auto it = overrides.find(rule.type); it != overrides.end()) return it->second;
  if (rule.urgent) return Lane::urgent;
  return rule.topic == Topic::outage ? Lane::outage : Lane::standard;
}

bool event_urgent(const Event& e, const EventTypeRule& rule) {
  return rule.urgent || (rule.data.count("urgency") > 0 && immediate_urgency(e));
}

Lane event_lane(const Event& e, const EventTypeRule& rule, const LaneOverrides& overrides) {
  const Lane lane = lane_of(rule, overrides);
  return event_urgent(e, rule) && lane > Lane::urgent ? Lane::urgent : lane;
}

}  // namespace herald::rules
