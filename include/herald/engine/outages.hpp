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

// The texts and timing of one notice for the recipient groups of its outage, in the shape
// store::run_notice_chunk reads: {"type", "priority", "urgent", "expires_at", "replaces",
// "texts": [{language, timezone, channel, rendered_language, subject, body, html, gsm, units,
// placeholders, exact}], "times": [{timezone, quiet_enabled, quiet_start, quiet_end, status,
// not_before, explanation}]}. Each text is rendered once per (language, time zone, channel)
// with a placeholder where the service address goes. Groups whose time zone is unknown get
// no timing (their recipients get no message). Pure.
Json render_outage_notice(const store::DueOutage& outage, const std::string& notice,
                          const std::vector<store::RecipientGroup>& groups, const rules::RulesConfig& rules,
                          const rules::TemplateStore& templates, TimePoint now);

// One step of the outage loop, in order: up to `batch` outage.updated events; every outage
// whose due_at has come (the notice it calls for recorded); one chunk of the oldest pending
// notice. Returns the work done (events, reviews, chunks); 0 when there was none.
std::size_t outage_step(store::Database& db, const OutageConfig& config, const rules::RulesConfig& rules,
                        const rules::TemplateStore& templates, TimePoint now, std::size_t batch = 100);

}  // namespace herald::engine
