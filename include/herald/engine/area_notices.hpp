// Area notices on the engine side: the rules' part of a fan-out (who, when, which text).
#pragma once

#include "herald/rules/decide.hpp"
#include "herald/rules/lanes.hpp"
#include "herald/rules/templates.hpp"
#include "herald/store/area_notices.hpp"

namespace herald::engine {

// The query (the event's target, its topic, the default preferences) and the plan: a send
// time per time zone and quiet hours (urgent events override them, as decide does), a text
// per language and channel rendered once with the recipient's own fields left as
// store::area_field sentinels, the unsubscribe signing key, the lane of the event.
store::AreaNoticeRules area_notice_rules(const rules::RulesConfig& rules, const rules::TemplateStore& templates,
                                         const rules::LaneOverrides& lanes, TimePoint now);

}  // namespace herald::engine
