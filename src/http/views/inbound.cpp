// JSON views of inbound messages and conversation threads.
#include "herald/http/views/inbound.hpp"

#include "herald/http/views/cursor.hpp"
#include "herald/http/views/masking.hpp"

namespace herald::http::views {

namespace {

Json or_null(const std::optional<TimePoint>& v) { return v ? Json(format_time(*v)) : Json(); }
Json or_null(const std::optional<std::int64_t>& v) { return v ? Json(*v) : Json(); }
Json or_null(const std::optional<std::string>& v) { return v ? Json(*v) : Json(); }

}  // namespace

Json inbound_json(const store::InboundRow& r, bool reveal) {
  return {{"id", r.id},
          {"provider", r.provider},
          {"provider_message_id", r.provider_message_id.empty() ? Json() : Json(r.provider_message_id)},
          {"channel", to_string(r.channel)},
          {"from", shown_address(r.from, reveal)},
          {"to", r.to},
          {"body", r.body},
          {"received_at", format_time(r.received_at)},
          {"customer_ids", r.customer_ids},
          {"conversation_id", or_null(r.conversation_id)},
          {"matched", r.matched},
          {"keyword", r.keyword},
          {"action", r.action},
          {"reply", r.reply},
          {"error", or_null(r.error)},
          {"handled_at", or_null(r.handled_at)}};
}

Json inbound_page_json(const store::InboundPage& page, bool reveal) {
  Json items = Json::array();
  for (const auto& r : page.items) items.push_back(inbound_json(r, reveal));
  return {{"items", std::move(items)},
          {"next_cursor", page.next_before_id ? Json(encode_cursor(*page.next_before_id)) : Json()}};
}

Json conversation_json(const store::ConversationThread& t, bool reveal) {
  const auto& c = t.conversation;
  Json replies = Json::array();
  for (const auto& r : t.replies) replies.push_back(inbound_json(r, reveal));
  Json follow_ups = Json::array();
  for (const auto& f : t.follow_ups) follow_ups.push_back(conversation_json(f, reveal));
  Json context = c.context;
  mask_within(context, c.address, shown_address(c.address, reveal));
  return {{"id", c.id},
          {"message_id", or_null(c.message_id)},
          {"parent_id", or_null(c.parent_id)},
          {"channel", to_string(c.channel)},
          {"address", shown_address(c.address, reveal)},
          {"customer_id", c.customer_id},
          {"account_id", c.account_id},
          {"expected", c.expected},
          {"context", std::move(context)},
          {"state", c.state},
          {"opened_at", format_time(c.opened_at)},
          {"expires_at", format_time(c.expires_at)},
          {"closed_at", or_null(c.closed_at)},
          {"replies", std::move(replies)},
          {"follow_ups", std::move(follow_ups)}};
}

}  // namespace herald::http::views
