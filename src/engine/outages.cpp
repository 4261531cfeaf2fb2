// Outage notices: judged per outage, planned by the shared fan-out (engine/fanout), written by the store.
#include "herald/engine/outages.hpp"

#include <spdlog/spdlog.h>

#include "herald/engine/fanout.hpp"

namespace herald::engine {

namespace {

rules::OutageNoticeState state_of(const store::DueOutage& d) {
  rules::OutageNoticeState s;
  s.status = d.outage.status;
  s.kind = d.outage.kind;
  s.etr = d.outage.etr;
  s.planned_start = d.outage.planned_start;
  s.notified_status = d.notified_status;
  s.notified_etr = d.notified_etr;
  s.last_notice_at = d.last_notice_at;
  s.planned_notice_sent = d.planned_notice_sent;
  s.planned_reminder_sent = d.planned_reminder_sent;
  return s;
}

store::DueOutage with_state(store::DueOutage d, const rules::OutageNoticeState& s) {
  d.notified_status = s.notified_status;
  d.notified_etr = s.notified_etr;
  d.last_notice_at = s.last_notice_at;
  d.planned_notice_sent = s.planned_notice_sent;
  d.planned_reminder_sent = s.planned_reminder_sent;
  return d;
}

store::FanoutAudience audience_of(const rules::RulesConfig& rules) {
  store::FanoutAudience a;
  a.topic = Topic::outage;
  a.defaults = rules.default_preferences;
  a.default_language = rules.default_language;
  return a;
}

// Judges one due outage; false when none was due.
bool review_one(store::Database& db, const OutageConfig& config, const rules::RulesConfig& rules,
                const rules::TemplateStore& templates, TimePoint now) {
  auto review = store::OutageReview::open(db, now);
  if (!review) return false;
  const auto& due = review->outage();
  const auto state = state_of(due);
  const auto plan = rules::plan_outage_notice(state, config.notices, now);
  if (!plan.notice) {
    review->finish(std::nullopt, due, plan.next_due, now);
    return true;
  }
  const auto groups = review->recipient_groups(audience_of(rules));
  store::NewOutageNotice notice;
  notice.kind = *plan.notice;
  notice.type = rules::outage_notice_type(notice.kind);
  notice.texts = render_outage_notice(due, notice.kind, groups, rules, templates, now);
  notice.parts = config.notice_parts;
  notice.part_accounts = config.chunk_accounts;
  const auto told = rules::after_notice(state, notice.kind, now, config.notices);
  auto next = rules::plan_outage_notice(told, config.notices, now);
  // A notice still called for right after this one is looked at again at once, next round.
  if (next.notice) next.next_due = now;
  spdlog::info("outage {}: {} notice for {} recipient groups", due.outage.outage_id, notice.kind, groups.size());
  review->finish(notice, with_state(due, told), next.next_due, now);
  return true;
}

}  // namespace

Json render_outage_notice(const store::DueOutage& outage, const std::string& notice,
                          const std::vector<store::FanoutGroup>& groups, const rules::RulesConfig& rules,
                          const rules::TemplateStore& templates, TimePoint now) {
  const auto type = rules::outage_notice_type(notice);
  EventTypeRule rule;
  if (auto found = rules.types.find(type); found != rules.types.end()) rule = found->second;

  FanoutNotice n;
  n.event.event_id = "outage:" + outage.outage.outage_id;
  n.event.type = type;
  n.event.occurred_at = now;
  n.event.data = {{"outage_id", outage.outage.outage_id}, {"status", outage.outage.status}};
  if (!outage.outage.cause.empty()) n.event.data["cause"] = outage.outage.cause;
  if (outage.outage.etr) n.event.data["etr"] = format_time(*outage.outage.etr);
  if (outage.outage.planned_start) n.event.data["planned_start"] = format_time(*outage.outage.planned_start);
  if (outage.outage.planned_end) n.event.data["planned_end"] = format_time(*outage.outage.planned_end);
  n.urgent = rule.urgent;
  n.priority = rule.priority;
  n.lane = Lane::outage;
  n.expires_at = now + rule.ttl;
  n.decision = {{"chosen_by", "preference"},
                {"outage", {{"outage_id", outage.outage.outage_id}, {"notice", notice}}}};
  if (rule.urgent) n.decision["rule"] = {{"urgent", true}};
  Json out = store::to_json(plan_fanout(n, groups, rules, templates, now));
  out["replaces"] = outage.told_before;
  return out;
}

std::size_t outage_step(store::Database& db, const OutageConfig& config, const rules::RulesConfig& rules,
                        const rules::TemplateStore& templates, TimePoint now, std::size_t batch) {
  std::size_t work = store::apply_outage_events(db, batch, now);
  while (review_one(db, config, rules, templates, now)) ++work;
  const auto chunk =
      store::run_notice_chunk(db, config.chunk_accounts, audience_of(rules), fanout_signing(rules, now), now);
  if (chunk.pending) {
    ++work;
    spdlog::debug("outage fan-out: {} accounts, {} messages created, {} replaced{}", chunk.accounts, chunk.created,
                  chunk.replaced, chunk.notice_done ? ", notice done" : chunk.part_done ? ", part done" : "");
  }
  return work;
}

}  // namespace herald::engine
