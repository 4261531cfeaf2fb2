// The API's view of the message log: summaries, pages and the full message, masked unless revealed.
#include "herald/http/views/messages.hpp"

#include <optional>
#include <regex>
#include <string_view>

#include "herald/http/views/cursor.hpp"
#include "herald/http/views/masking.hpp"

namespace herald::http::views {

namespace {

Json or_null(const std::optional<std::string>& v) { return v ? Json(*v) : Json(); }
Json or_null(const std::optional<TimePoint>& v) { return v ? Json(format_time(*v)) : Json(); }
Json or_null(const std::optional<std::int64_t>& v) { return v ? Json(*v) : Json(); }
Json or_null(const std::optional<int>& v) { return v ? Json(*v) : Json(); }

Json attempt_json(const store::MessageAttempt& a) {
  return {{"attempt", a.attempt},
          {"gateway", a.gateway},
          {"started_at", format_time(a.started_at)},
          {"duration_ms", a.duration_ms},
          {"outcome", a.outcome},
          {"http_status", or_null(a.http_status)},
          {"error_code", or_null(a.error_code)},
          {"detail", a.detail},
          {"provider_id", or_null(a.provider_id)}};
}

Json receipt_json(const store::DeliveryReceipt& r) {
  return {{"status", r.status},
          {"error_code", or_null(r.error_code)},
          {"received_at", format_time(r.received_at)},
          {"raw", r.raw},
          {"gateway", r.gateway}};
}

// Intake stores only what the message's columns do not say (see rules::decide); the detail
// view shows the whole decision, the columns it was made with included.
void complete_decision(Json& m) {
  Json& d = m["decision"];
  if (!d.is_object()) return;
  auto fill = [&](const char* key, const Json& value) {
    if (!d.contains(key) && !value.is_null()) d[key] = value;
  };
  fill("event_type", m["type"]);
  fill("topic", m["topic"]);
  fill("channel", m["channel"]);
  fill("language", m["language"]);
  fill("decided_at", m["created_at"]);
  fill("send_at", m["not_before"]);
  fill("expires_at", m["expires_at"]);
  if (!d.contains("contact") && !m["contact_id"].is_null()) {
    d["contact"] = {{"id", m["contact_id"]}, {"address", m["address"]}};
    if (d.contains("consent")) d["contact"]["consent"] = d["consent"];
  }
}

// A contact verification carries a live code (and, by email, a link that signs the customer
// in): the log shows its text with those hidden, revealed or not.
std::string hide_secrets(std::string_view type, const std::string& text) {
  if (type != "contact.verification") return text;
  static const std::regex kSecrets(R"re((token=)[^&\s"'<]+|\b\d{6}\b|\d(, \d){5})re");
  return std::regex_replace(text, kSecrets, "$1******");
}

}  // namespace

Json message_summary_json(const store::MessageSummary& m, bool reveal) {
  return {{"id", m.id},
          {"created_at", format_time(m.created_at)},
          {"customer_id", m.customer_id},
          {"account_id", m.account_id},
          {"channel", std::string(to_string(m.channel))},
          {"address", shown_address(m.address, reveal)},
          {"type", m.type},
          {"topic", std::string(to_string(m.topic))},
          {"status", std::string(to_string(m.status))},
          {"suppression_reason", or_null(m.suppression_reason)},
          {"gateway", or_null(m.gateway)},
          {"body_preview", hide_secrets(m.type, m.body_preview)},
          {"event_id", m.event_id},
          {"attempts", m.attempts},
          {"not_before", or_null(m.not_before)},
          {"sent_at", or_null(m.sent_at)}};
}

Json message_page_json(const store::MessagePage& page, bool reveal) {
  Json items = Json::array();
  for (const auto& m : page.items) items.push_back(message_summary_json(m, reveal));
  return {{"items", std::move(items)},
          {"next_cursor", page.next_before_id ? Json(encode_cursor(*page.next_before_id)) : Json(nullptr)}};
}

Json message_detail_json(const store::MessageDetail& d, bool reveal) {
  const std::string shown = shown_address(d.address, reveal);
  Json m = {{"id", d.id},
            {"event_seq", or_null(d.event_seq)},
            {"event_id", d.event_id},
            {"customer_id", d.customer_id},
            {"account_id", d.account_id},
            {"contact_id", or_null(d.contact_id)},
            {"channel", std::string(to_string(d.channel))},
            {"address", shown},
            {"type", d.type},
            {"topic", std::string(to_string(d.topic))},
            {"language", d.language},
            {"priority", d.priority},
            {"urgent", d.urgent},
            {"subject", hide_secrets(d.type, d.subject)},
            {"body", hide_secrets(d.type, d.body)},
            {"html", hide_secrets(d.type, d.html)},
            {"segments", d.segments},
            {"encoding", d.encoding},
            {"status", std::string(to_string(d.status))},
            {"suppression_reason", or_null(d.suppression_reason)},
            {"decision", d.decision},
            {"not_before", or_null(d.not_before)},
            {"expires_at", or_null(d.expires_at)},
            {"due_at", or_null(d.due_at)},
            {"attempt_count", d.attempt_count},
            {"gateway", or_null(d.gateway)},
            {"provider_id", or_null(d.provider_id)},
            {"last_error", or_null(d.last_error)},
            {"created_at", format_time(d.created_at)},
            {"updated_at", format_time(d.updated_at)},
            {"sent_at", or_null(d.sent_at)},
            {"delivered_at", or_null(d.delivered_at)},
            {"conversation", nullptr}};
  Json attempts = Json::array();
  for (const auto& a : d.attempts) attempts.push_back(attempt_json(a));
  m["attempts"] = std::move(attempts);
  Json receipts = Json::array();
  for (const auto& r : d.receipts) receipts.push_back(receipt_json(r));
  m["receipts"] = std::move(receipts);

  complete_decision(m);
  if (!reveal && !d.address.empty()) {
    mask_within(m["decision"], d.address, shown);
    mask_within(m["receipts"], d.address, shown);
  }
  return m;
}

}  // namespace herald::http::views
