// Admin: the engagement report (GET /v1/reports/engagement).
#include "handlers.hpp"
#include "herald/http/views/engagement.hpp"
#include "herald/store/engagement.hpp"

namespace herald::http::handlers {

namespace {

// An optional RFC 3339 query parameter: `fallback` when absent, an error naming it when malformed.
Result<TimePoint> time_or(const Context& ctx, const std::string& name, TimePoint fallback) {
  const auto text = ctx.query_value(name);
  if (text.empty()) return fallback;
  auto t = parse_time(text);
  if (!t) return invalid(name, "invalid_time", name + " must be an RFC 3339 time with offset");
  return *t;
}

}  // namespace

// Default range: the last 7 days up to now.
Response engagement_report(Context& ctx) {
  auto to = time_or(ctx, "to", ctx.now);
  if (!to) return error_response(to.error());
  auto from = time_or(ctx, "from", *to - std::chrono::hours(24 * 7));
  if (!from) return error_response(from.error());
  if (!(*from < *to)) return error_response(invalid("from", "invalid_range", "from must be before to"));
  const auto report = store::engagement_report(ctx.services.db, *from, *to);
  return json_response(200, views::engagement_report_json(report, *from, *to));
}

}  // namespace herald::http::handlers
