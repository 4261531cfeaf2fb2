// The API's view of the console's read endpoints: customer search pages and the gateway report.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/store/customer_search.hpp"
#include "herald/store/gateway_report.hpp"

namespace herald::http::views {

// {"items": [{"customer_id", "name", "language", "matched_by", "accounts", "contacts"}],
// "next_cursor"}; contact addresses masked unless reveal.
Json customer_search_json(const store::CustomerSearchPage& page, bool reveal);

// Customer search cursors: base64url of the last customer id of the page.
std::string encode_customer_cursor(std::string_view customer_id);
std::optional<std::string> decode_customer_cursor(std::string_view cursor);

// {"from", "to", "gateways": [{"gateway", "attempts", "accepted", "rejected", "delivered",
// "undelivered", "failed", "delivery_rate", "failure_rate", "median_latency_ms",
// "p95_latency_ms", "median_delivery_ms", "p95_delivery_ms"}]}; a latency with no sample is null.
Json gateway_report_json(const std::vector<store::GatewayReportRow>& rows, TimePoint from, TimePoint to);

}  // namespace herald::http::views
