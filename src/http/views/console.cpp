// JSON of the console's read endpoints: customer search pages (masked contacts), gateway report.
#include "herald/http/views/console.hpp"

#include "herald/domain/json_io.hpp"
#include "herald/domain/signed_token.hpp"
#include "herald/http/views/masking.hpp"

namespace herald::http::views {

namespace {

Json number_or_null(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

// A share of a whole, null when the whole is zero (no attempts: no rate, rather than 0%).
Json rate(std::int64_t part, std::int64_t whole) {
  return whole == 0 ? Json(nullptr) : Json(static_cast<double>(part) / static_cast<double>(whole));
}

}  // namespace

Json customer_search_json(const store::CustomerSearchPage& page, bool reveal) {
  Json items = Json::array();
  for (const auto& m : page.items) {
    Json j = to_json(m.customer);
    for (auto& contact : j["contacts"]) contact["address"] = shown_address(contact["address"].get<std::string>(), reveal);
    j["matched_by"] = m.matched_by;
    items.push_back(std::move(j));
  }
  return {{"items", std::move(items)},
          {"next_cursor", page.next_after ? Json(encode_customer_cursor(*page.next_after)) : Json(nullptr)}};
}

std::string encode_customer_cursor(std::string_view customer_id) { return base64url_encode(customer_id); }

std::optional<std::string> decode_customer_cursor(std::string_view cursor) {
  auto id = base64url_decode(cursor);
  if (!id || id->empty() || encode_customer_cursor(*id) != cursor) return std::nullopt;
  return id;
}

Json gateway_report_json(const std::vector<store::GatewayReportRow>& rows, TimePoint from, TimePoint to) {
  Json gateways = Json::array();
  for (const auto& g : rows) {
    gateways.push_back({{"gateway", g.gateway},
                        {"attempts", g.attempts},
                        {"accepted", g.accepted},
                        {"rejected", g.rejected},
                        {"delivered", g.delivered},
                        {"undelivered", g.undelivered},
                        {"failed", g.failed},
                        {"delivery_rate", rate(g.delivered, g.accepted)},
                        {"failure_rate", rate(g.failed, g.attempts)},
                        {"median_latency_ms", number_or_null(g.median_latency_ms)},
                        {"p95_latency_ms", number_or_null(g.p95_latency_ms)},
                        {"median_delivery_ms", number_or_null(g.median_delivery_ms)},
                        {"p95_delivery_ms", number_or_null(g.p95_delivery_ms)}});
  }
  return {{"from", format_time(from)}, {"to", format_time(to)}, {"gateways", std::move(gateways)}};
}

}  // namespace herald::http::views
