// Which lane an event's messages are queued in, and whether the event may override quiet hours.
#pragma once

#include <map>
#include <string>

#include "herald/domain/lane.hpp"
#include "herald/domain/types.hpp"

namespace herald::rules {

// Lanes configured per event type ([rules.types."X"] lane = "urgent" | "outage" | "standard").
using LaneOverrides = std::map<std::string, Lane>;

// The lane of a type's messages: the configured one, else urgent types in the urgent lane,
// outage-topic types (notice.broadcast) in the outage lane, the rest (billing, other) standard.
Lane lane_of(const EventTypeRule& rule, const LaneOverrides& overrides);

// Whether the event's messages may go out during quiet hours and outside the send window: its
// type is urgent, or the type declares data.urgency and the event says "immediate".
bool event_urgent(const Event& e, const EventTypeRule& rule);

// The lane of the event's messages: the type's, raised to urgent for an urgent event.
Lane event_lane(const Event& e, const EventTypeRule& rule, const LaneOverrides& overrides);

}  // namespace herald::rules
