// Admin: the engagement report (GET /v1/reports/engagement).
#include "handlers.hpp"
#include "herald/http/views/engagement.hpp"
#include "herald/store/engagement.hpp"

namespace herald::http::handlers {

// Default range: the last 7 days up to now.
Response engagement_report(Context& ctx) {
  auto range = report_range(ctx);
  if (!range) return error_response(range.error());
  const auto report = store::engagement_report(ctx.services.db, range->from, range->to);
  return json_response(200, views::engagement_report_json(report, range->from, range->to));
}

}  // namespace herald::http::handlers
