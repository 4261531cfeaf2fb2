// Area notices: the event's area and audience, and its plan by the shared fan-out (engine/fanout).
#include "herald/engine/area_notices.hpp"

#include "herald/engine/fanout.hpp"
#include "herald/rules/area_notice.hpp"
#include "herald/rules/event_data.hpp"

namespace herald::engine {

store::AreaNoticeRules area_notice_rules(const rules::RulesConfig& cfg, const rules::TemplateStore& templates,
                                         const rules::LaneOverrides& lanes, TimePoint now) {
  store::AreaNoticeRules out;
  out.query = [&cfg](const Event& e) -> Result<store::AreaQuery> {
    const auto rule = cfg.types.find(e.type);
    if (rule == cfg.types.end()) return invalid("type", "unknown_event_type", "unknown event type '" + e.type + "'");
    if (auto bad = rules::validate_event_data(e.data, rule->second)) return *bad;
    auto target = rules::parse_area_target(e.data);
    if (!target) return target.error();
    store::AreaQuery q;
    q.zips = std::move(target->zips);
    q.feeders = std::move(target->feeders);
    q.segments = std::move(target->segments);
    q.premise_ids = std::move(target->premise_ids);
    q.audience.topic = rule->second.topic;
    q.audience.defaults = cfg.default_preferences;
    q.audience.default_language = cfg.default_language;
    return q;
  };
  out.plan = [&cfg, &templates, &lanes, now](const Event& e, const std::vector<store::FanoutGroup>& groups) {
    const auto& rule = cfg.types.at(e.type);
    FanoutNotice notice;
    notice.event = e;
    notice.urgent = rules::event_urgent(e, rule);
    notice.lane = rules::event_lane(e, rule, lanes);
    notice.priority = rule.priority;
    const TimePoint occurred = e.occurred_at == TimePoint{} ? now : e.occurred_at;
    notice.expires_at = occurred + rule.ttl;
    notice.decision = {{"chosen_by", "preference"}, {"area_notice", true}};
    if (notice.urgent) notice.decision["rule"] = {{"urgent", true}};
    return plan_fanout(notice, groups, cfg, templates, now);
  };
  out.signing = fanout_signing(cfg, now);
  return out;
}

}  // namespace herald::engine
