// Area notices on the engine side: the area and audience of an event, and its plan for the shared fan-out.
#pragma once

#include "herald/rules/decide.hpp"
#include "herald/rules/lanes.hpp"
#include "herald/rules/templates.hpp"
#include "herald/store/area_notices.hpp"

namespace herald::engine {

// The query (the event's target, its topic, the default preferences) and the plan by
// engine::plan_fanout (urgent events override quiet hours, as decide does; the lane of the
// event), and the unsubscribe signing.
store::AreaNoticeRules area_notice_rules(const rules::RulesConfig& rules, const rules::TemplateStore& templates,
                                         const rules::LaneOverrides& lanes, TimePoint now);

}  // namespace herald::engine
