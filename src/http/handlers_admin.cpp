// Admin: the message log (filtered, paginated, masked unless revealed and audited) and reports.
#include <charconv>

#include "handlers.hpp"
#include "herald/domain/phone.hpp"
#include "herald/http/csv.hpp"
#include "herald/store/audit.hpp"
#include "herald/store/messages.hpp"
#include "herald/store/reports.hpp"

namespace herald::http::handlers {

namespace {

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 500;

std::optional<std::int64_t> parse_positive(const std::string& text) {
  std::int64_t v = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

// An optional RFC 3339 query parameter: nullopt inside when absent, an error when malformed.
Result<std::optional<TimePoint>> time_param(const Context& ctx, const std::string& name) {
  auto text = ctx.query_value(name);
  if (text.empty()) return std::optional<TimePoint>{};
  auto t = parse_time(text);
  if (!t) return invalid(name, "invalid_time", name + " must be an RFC 3339 time with offset");
  return std::optional<TimePoint>{*t};
}

// Addresses are stored normalised: search the way they are stored.
std::string normalized_address(const std::string& input, const std::string& region) {
  if (input.find('@') != std::string::npos) {
    if (auto email = normalize_email(input)) return *email;
    return input;
  }
  if (auto phone = to_e164(input, region)) return *phone;
  return input;
}

bool reveal_requested(const Context& ctx) {
  auto v = ctx.query_value("reveal");
  return v == "1" || v == "true";
}

std::string cell(const Json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace

Response list_messages(Context& ctx) {
  store::MessageFilter f;
  f.customer_id = ctx.query_value("customer_id");
  f.account_id = ctx.query_value("account_id");
  if (auto a = ctx.query_value("address"); !a.empty()) f.address = normalized_address(a, ctx.config.default_region);
  f.channel = ctx.query_value("channel");
  f.type = ctx.query_value("type");
  f.topic = ctx.query_value("topic");
  f.status = ctx.query_value("status");
  f.q = ctx.query_value("q");
  f.cursor = ctx.query_value("cursor");
  auto from = time_param(ctx, "from");
  if (!from) return error_response(from.error());
  auto to = time_param(ctx, "to");
  if (!to) return error_response(to.error());
  f.from = *from;
  f.to = *to;
  f.limit = kDefaultLimit;
  if (auto text = ctx.query_value("limit"); !text.empty()) {
    auto n = parse_positive(text);
    if (!n || *n > kMaxLimit)
      return error_response(invalid("limit", "invalid_limit", "limit must be an integer from 1 to 500"));
    f.limit = static_cast<int>(*n);
  }
  const bool reveal = reveal_requested(ctx);
  auto page = store::list_messages(ctx.services.db, f, reveal);
  if (!page) return error_response(page.error());
  if (reveal) {
    store::audit(ctx.services.db, ctx.actor(), "messages.reveal", "messages",
                 Json{{"query", std::string(ctx.request.query_string())}, {"count", page->items.size()}});
  }
  return json_response(200, Json{{"items", std::move(page->items)},
                                 {"next_cursor", page->next_cursor ? Json(*page->next_cursor) : Json(nullptr)}});
}

Response get_message(Context& ctx) {
  auto id = parse_positive(ctx.param("message_id"));
  if (!id) return error_response(ErrorKind::not_found, "message_not_found", "no such message");
  const bool reveal = reveal_requested(ctx);
  auto message = store::get_message_detail(ctx.services.db, *id, reveal);
  if (!message) return error_response(ErrorKind::not_found, "message_not_found", "no such message");
  if (reveal) store::audit(ctx.services.db, ctx.actor(), "message.reveal", std::to_string(*id), Json::object());
  return json_response(200, *message);
}

Response volume_report(Context& ctx) {
  auto from = time_param(ctx, "from");
  if (!from) return error_response(from.error());
  auto to = time_param(ctx, "to");
  if (!to) return error_response(to.error());
  store::VolumeQuery q;
  q.to = to->value_or(ctx.now);
  q.from = from->value_or(q.to - std::chrono::hours(24 * 7));
  if (!(q.from < q.to)) return error_response(invalid("from", "invalid_range", "from must be before to"));
  if (auto b = ctx.query_value("bucket"); !b.empty()) q.bucket = b;
  std::string_view groups = ctx.query.count("group_by") ? ctx.query.at("group_by") : std::string_view{};
  while (!groups.empty()) {
    auto comma = groups.find(',');
    auto g = groups.substr(0, comma);
    while (!g.empty() && g.front() == ' ') g.remove_prefix(1);
    while (!g.empty() && g.back() == ' ') g.remove_suffix(1);
    if (!g.empty()) q.group_by.emplace_back(g);
    groups = comma == std::string_view::npos ? std::string_view{} : groups.substr(comma + 1);
  }
  const auto format = ctx.query_value("format");
  if (!format.empty() && format != "json" && format != "csv")
    return error_response(invalid("format", "invalid_format", "format must be json or csv"));

  auto rows = store::volume_report(ctx.services.db, q);
  if (!rows) return error_response(rows.error());

  if (format == "csv") {
    // Columns as the store names them, deduplicated in request order.
    std::vector<std::string> header{"bucket"};
    for (const auto& g : q.group_by)
      if (std::find(header.begin(), header.end(), g) == header.end()) header.push_back(g);
    header.push_back("count");
    std::vector<std::vector<std::string>> lines;
    for (const auto& row : *rows) {
      std::vector<std::string> line;
      for (const auto& col : header) line.push_back(cell(row.value(col, Json())));
      lines.push_back(std::move(line));
    }
    auto r = text_response(200, to_csv(header, lines), "text/csv; charset=utf-8");
    r.set_header("Content-Disposition", "attachment; filename=\"volume.csv\"");
    return r;
  }
  return json_response(200, Json{{"rows", std::move(*rows)},
                                 {"from", format_time(q.from)},
                                 {"to", format_time(q.to)},
                                 {"bucket", q.bucket}});
}

}  // namespace herald::http::handlers
