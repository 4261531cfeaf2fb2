// Admin: the engagement report (GET /v1/reports/engagement).
#include "handlers.hpp"
#include "herald/http/views/engagement.hpp"
#include "herald/store/engagement.hpp"

namespace herald::http::handlers {

// Default range: the last 7 days up to now.
Response engagement_report(Context& ctx) {
  auto to_param = time_param(ctx, "to");
  if (!to_param) return error_response(to_param.error());
  const TimePoint to = to_param->value_or(ctx.now);
  auto from_param = time_param(ctx, "from");
  if (!from_param) return error_response(from_param.error());
  const TimePoint from = from_param->value_or(to - std::chrono::hours(24 * 7));
  if (!(from < to)) return error_response(invalid("from", "invalid_range", "from must be before to"));
  const auto report = store::engagement_report(ctx.services.db, from, to);
  return json_response(200, views::engagement_report_json(report, from, to));
}

}  // namespace herald::http::handlers
