// Admin: the message log (filtered, paginated, masked unless revealed and audited) and reports.
#include <algorithm>
#include <charconv>

#include "handlers.hpp"
#include "herald/domain/phone.hpp"
#include "herald/domain/text.hpp"
#include "herald/http/views/inbound.hpp"
#include "herald/http/views/messages.hpp"
#include "herald/http/views/reports.hpp"
#include "herald/store/audit.hpp"
#include "herald/store/inbound.hpp"
#include "herald/store/messages.hpp"
#include "herald/store/reports.hpp"

namespace herald::http::handlers {

namespace {

std::optional<std::int64_t> parse_positive(const std::string& text) {
  std::int64_t v = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
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

// An optional enum query parameter: nullopt inside when absent, an error naming it when unknown.
template <typename T, typename Parse>
Result<std::optional<T>> enum_param(const Context& ctx, const std::string& name, Parse parse) {
  auto text = ctx.query_value(name);
  if (text.empty()) return std::optional<T>{};
  auto value = parse(text);
  if (!value) return invalid(name, "invalid_value", "unknown " + name + " '" + text + "'");
  return std::optional<T>{*value};
}

}  // namespace

Response list_messages(Context& ctx) {
  // Text filters reach the database as they are: bytes that are not UTF-8 are the client's error.
  for (const char* name : {"customer_id", "account_id", "address", "type", "q"})
    if (auto bad = reject_bad_text(ctx.query_value(name), name)) return error_response(*bad);
  store::MessageFilter f;
  f.customer_id = ctx.query_value("customer_id");
  f.account_id = ctx.query_value("account_id");
  if (auto a = ctx.query_value("address"); !a.empty()) f.address = normalized_address(a, ctx.config.default_region);
  f.type = ctx.query_value("type");
  f.q = ctx.query_value("q");
  if (auto bad = read_list_window(ctx, f)) return error_response(*bad);
  auto channel = enum_param<Channel>(ctx, "channel", parse_channel);
  if (!channel) return error_response(channel.error());
  auto topic = enum_param<Topic>(ctx, "topic", parse_topic);
  if (!topic) return error_response(topic.error());
  auto status = enum_param<MessageStatus>(ctx, "status", parse_message_status);
  if (!status) return error_response(status.error());
  f.channel = *channel;
  f.topic = *topic;
  f.status = *status;

  const bool reveal = reveal_requested(ctx);
  const auto messages = store::list_messages(ctx.services.db, f);
  if (reveal) {
    store::audit(ctx.services.db, ctx.actor(), "messages.reveal", "messages",
                 Json{{"query", std::string(ctx.request.query_string())}, {"count", messages.items.size()}});
  }
  return json_response(200, views::message_page_json(messages, reveal));
}

Response get_message(Context& ctx) {
  auto id = parse_positive(ctx.param("message_id"));
  if (!id) return error_response(ErrorKind::not_found, "message_not_found", "no such message");
  const bool reveal = reveal_requested(ctx);
  auto message = store::get_message_detail(ctx.services.db, *id);
  if (!message) return error_response(ErrorKind::not_found, "message_not_found", "no such message");
  if (reveal) store::audit(ctx.services.db, ctx.actor(), "message.reveal", std::to_string(*id), Json::object());
  auto body = views::message_detail_json(*message, reveal);
  if (auto thread = store::conversation_for_message(ctx.services.db, *id))
    body["conversation"] = views::conversation_json(*thread, reveal);
  return json_response(200, body);
}

Response list_inbound(Context& ctx) {
  store::InboundFilter f;
  if (auto a = ctx.query_value("address"); !a.empty()) f.address = normalized_address(a, ctx.config.default_region);
  if (auto bad = read_list_window(ctx, f)) return error_response(*bad);
  const bool reveal = reveal_requested(ctx);
  const auto inbound = store::list_inbound(ctx.services.db, f);
  if (reveal) {
    store::audit(ctx.services.db, ctx.actor(), "inbound.reveal", "inbound",
                 Json{{"query", std::string(ctx.request.query_string())}, {"count", inbound.items.size()}});
  }
  return json_response(200, views::inbound_page_json(inbound, reveal));
}

Response volume_report(Context& ctx) {
  auto range = report_range(ctx);
  if (!range) return error_response(range.error());
  store::VolumeQuery q;
  q.from = range->from;
  q.to = range->to;
  const auto format = ctx.query_value("format");
  if (!format.empty() && format != "json" && format != "csv")
    return error_response(invalid("format", "invalid_format", "format must be json or csv"));
  if (auto b = ctx.query_value("bucket"); !b.empty()) {
    auto bucket = store::parse_time_bucket(b);
    if (!bucket) return error_response(invalid("bucket", "invalid_bucket", "bucket must be hour, day, week or month"));
    q.bucket = *bucket;
  }
  std::string_view groups = ctx.query.count("group_by") ? ctx.query.at("group_by") : std::string_view{};
  while (!groups.empty()) {
    auto comma = groups.find(',');
    auto g = groups.substr(0, comma);
    while (!g.empty() && g.front() == ' ') g.remove_prefix(1);
    while (!g.empty() && g.back() == ' ') g.remove_suffix(1);
    groups = comma == std::string_view::npos ? std::string_view{} : groups.substr(comma + 1);
    if (g.empty()) continue;
    auto group = store::parse_volume_group(g);
    if (!group)
      return error_response(invalid("group_by", "invalid_group_by",
                                    "cannot group by '" + std::string(g) + "' (channel, type, status, topic, gateway)"));
    // Each column once, in the order first asked for.
    if (std::find(q.group_by.begin(), q.group_by.end(), *group) == q.group_by.end()) q.group_by.push_back(*group);
  }

  const auto rows = store::volume_report(ctx.services.db, q);
  if (format == "csv") {
    auto r = text_response(200, views::volume_report_csv(rows, q), "text/csv; charset=utf-8");
    r.set_header("Content-Disposition", "attachment; filename=\"volume.csv\"");
    return r;
  }
  return json_response(200, views::volume_report_json(rows, q));
}

}  // namespace herald::http::handlers
