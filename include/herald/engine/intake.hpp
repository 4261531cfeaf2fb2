// Turning a claimed batch of events into messages: validation plus the rules engine.
#pragma once

#include <vector>

#include "herald/rules/decide.hpp"
#include "herald/rules/lanes.hpp"
#include "herald/rules/templates.hpp"
#include "herald/store/intake.hpp"

namespace herald::engine {

// For each event: rejects an unknown type, a missing account or non-object data (the same
// checks the HTTP intake makes, for rows a CIS inserted directly); otherwise runs the
// rules and turns every decision into a message that carries its explanation; the outcome
// carries the event's lane (rules::event_lane with `lanes`). Pure.
std::vector<store::EventOutcome> decide_events(const std::vector<Event>& events, const store::RecipientContexts& recipients,
                                               const rules::RulesConfig& rules, const rules::TemplateStore& templates,
                                               TimePoint now, const rules::LaneOverrides& lanes = {});

}  // namespace herald::engine
