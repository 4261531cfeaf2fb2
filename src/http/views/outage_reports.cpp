// JSON views of outage reports and their forwarding.
#include "herald/http/views/outage_reports.hpp"

#include "herald/http/views/cursor.hpp"

namespace herald::http::views {

namespace {

Json or_null(const std::optional<TimePoint>& v) { return v ? Json(format_time(*v)) : Json(); }

Json forwarding_json(const store::ReportForwarding& f) {
  return {{"state", f.state},
          {"attempts", f.attempts},
          {"http_status", f.http_status == 0 ? Json() : Json(f.http_status)},
          {"last_error", f.last_error.empty() ? Json() : Json(f.last_error)},
          {"last_attempt_at", or_null(f.last_attempt_at)},
          {"next_attempt_at", or_null(f.next_attempt_at)},
          {"completed_at", or_null(f.completed_at)}};
}

}  // namespace

Json outage_report_json(const store::OutageReportRow& r) {
  return {{"report_id", r.report_id},
          {"outage_id", r.outage_id ? Json(*r.outage_id) : Json()},
          {"account_id", r.account_id},
          {"customer_id", r.customer_id.empty() ? Json() : Json(r.customer_id)},
          {"premise_id", r.premise_id},
          {"source", r.source},
          {"note", r.note},
          {"inbound_id", r.inbound_id ? Json(*r.inbound_id) : Json()},
          {"created_at", format_time(r.created_at)},
          {"forwarding", r.forwarding ? forwarding_json(*r.forwarding) : Json()}};
}

Json outage_report_page_json(const store::OutageReportPage& page) {
  Json items = Json::array();
  for (const auto& r : page.items) items.push_back(outage_report_json(r));
  return {{"items", std::move(items)},
          {"next_cursor", page.next_before_id ? Json(encode_cursor(*page.next_before_id)) : Json()}};
}

}  // namespace herald::http::views
