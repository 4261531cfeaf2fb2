// The outage loop's work: outage.updated events applied, due outages judged (rules/outage_notices),
// notices rendered once per language and time zone, then fanned out in chunks by the store.
#pragma once

#include <cstddef>
#include <vector>

#include "herald/engine/config.hpp"
#include "herald/rules/decide.hpp"
#include "herald/rules/templates.hpp"
#include "herald/store/db.hpp"
#include "herald/store/outage_fanout.hpp"

namespace herald::engine {

// The plan of one notice for the recipient groups of its outage (engine::plan_fanout, outage
// lane, the outage and notice in each explanation) as store::to_json writes it, with
// "replaces": whether the outage was told before (its queued messages get the new text). Pure.
Json render_outage_notice(const store::DueOutage& outage, const std::string& notice,
                          const std::vector<store::FanoutGroup>& groups, const rules::RulesConfig& rules,
                          const rules::TemplateStore& templates, TimePoint now);

// One step of the outage loop, in order: up to `batch` outage.updated events; every outage
// whose due_at has come (the notice it calls for recorded); one chunk of the oldest pending
// notice. Returns the work done (events, reviews, chunks); 0 when there was none.
std::size_t outage_step(store::Database& db, const OutageConfig& config, const rules::RulesConfig& rules,
                        const rules::TemplateStore& templates, TimePoint now, std::size_t batch = 100);

}  // namespace herald::engine
