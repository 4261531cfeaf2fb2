// JSON of stored outages for GET /v1/outages and /v1/outages/{id}.
#include "herald/http/views/outages.hpp"

namespace herald::http::views {

namespace {

Json time_json(const std::optional<TimePoint>& t) { return t ? Json(format_time(*t)) : Json(nullptr); }

}  // namespace

Json outage_json(const store::StoredOutage& o) {
  Json affected = {{"premise_count", o.premise_count}, {"feeders", o.feeders}, {"zips", o.zips}};
  if (o.premise_count <= store::kListedPremises) affected["premise_ids"] = o.premise_ids;
  return {{"outage_id", o.outage_id},
          {"status", o.status},
          {"kind", o.kind},
          {"cause", o.cause.empty() ? Json(nullptr) : Json(o.cause)},
          {"etr", time_json(o.etr)},
          {"planned_start", time_json(o.planned_start)},
          {"planned_end", time_json(o.planned_end)},
          {"created_at", format_time(o.created_at)},
          {"updated_at", format_time(o.updated_at)},
          {"ended_at", time_json(o.ended_at)},
          {"affected", std::move(affected)}};
}

Json outage_detail_json(const store::OutageDetail& d) {
  Json out = outage_json(d.outage);
  Json notified = Json::object();
  for (const auto& [channel, statuses] : d.counts.notified) {
    Json by_status = Json::object();
    for (const auto& [status, n] : statuses) by_status[status] = n;
    notified[channel] = std::move(by_status);
  }
  out["counts"] = {{"affected", d.counts.affected_customers},
                   {"accounts", d.counts.affected_accounts},
                   {"notified", std::move(notified)},
                   {"notices", d.counts.notices},
                   {"reports", d.counts.reports}};
  Json history = Json::array();
  for (const auto& h : d.history)
    history.push_back({{"at", format_time(h.at)},
                       {"actor", h.actor},
                       {"source", h.source},
                       {"status", h.status},
                       {"changes", h.changes}});
  out["history"] = std::move(history);
  return out;
}

}  // namespace herald::http::views
