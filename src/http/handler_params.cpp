// Query parameters several handlers read the same way: optional times and the page of a list.
#include <charconv>

#include "handlers.hpp"
#include "herald/domain/text.hpp"
#include "herald/http/views/cursor.hpp"

namespace herald::http {

namespace {

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 500;

}  // namespace

Result<std::optional<TimePoint>> time_param(const Context& ctx, const std::string& name) {
  auto text = ctx.query_value(name);
  if (text.empty()) return std::optional<TimePoint>{};
  auto t = parse_time(text);
  if (!t) return invalid(name, "invalid_time", name + " must be an RFC 3339 time with offset");
  return std::optional<TimePoint>{*t};
}

namespace {

ApiError reversed_range() { return invalid("from", "invalid_range", "from must be before to"); }

}  // namespace

Result<TimeFilter> time_filter(const Context& ctx) {
  auto from = time_param(ctx, "from");
  if (!from) return from.error();
  auto to = time_param(ctx, "to");
  if (!to) return to.error();
  if (*from && *to && !(**from < **to)) return reversed_range();
  return TimeFilter{*from, *to};
}

Result<TimeRange> report_range(const Context& ctx, std::chrono::hours span) {
  auto times = time_filter(ctx);
  if (!times) return times.error();
  TimeRange range;
  range.to = times->to.value_or(ctx.now);
  range.from = times->from.value_or(range.to - span);
  if (!(range.from < range.to)) return reversed_range();
  return range;
}

Result<int> page_limit(const Context& ctx) {
  const auto text = ctx.query_value("limit");
  if (text.empty()) return kDefaultLimit;
  int n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < 1 || n > kMaxLimit)
    return invalid("limit", "invalid_limit", "limit must be an integer from 1 to 500");
  return n;
}

Result<PageParams> page_params(const Context& ctx) {
  auto limit = page_limit(ctx);
  if (!limit) return limit.error();
  PageParams page;
  page.limit = *limit;
  if (auto cursor = ctx.query_value("cursor"); !cursor.empty()) {
    page.before_id = views::decode_cursor(cursor);
    if (!page.before_id) return malformed("cursor", "invalid_cursor", "the cursor is not one this server issued");
  }
  return page;
}

std::optional<ApiError> reject_unstorable_parameters(const Context& ctx) {
  for (const auto& [name, value] : ctx.params)
    if (auto bad = reject_unstorable_text(value, name)) return bad;
  for (const auto& [name, value] : ctx.query)
    if (auto bad = reject_unstorable_text(value, name)) return bad;
  return std::nullopt;
}

std::optional<ApiError> reject_unstorable_form(const std::vector<std::pair<std::string, std::string>>& fields) {
  for (const auto& [name, value] : fields) {
    if (auto bad = reject_unstorable_text(name, "form field name")) return bad;
    if (auto bad = reject_unstorable_text(value, name)) return bad;
  }
  return std::nullopt;
}

}  // namespace herald::http
