// The API's view of outage reports: one report with its forwarding to the OMS, and pages of them.
#pragma once

#include "herald/domain/types.hpp"
#include "herald/store/outage_reports.hpp"

namespace herald::http::views {

// report_id, outage_id (null when none), account_id, customer_id, premise_id, source, note,
// inbound_id, created_at, forwarding: {state, attempts, http_status, last_error,
// last_attempt_at, next_attempt_at, completed_at} or null.
Json outage_report_json(const store::OutageReportRow& r);

// {"items": [...], "next_cursor": cursor or null}
Json outage_report_page_json(const store::OutageReportPage& page);

}  // namespace herald::http::views
