// Per-gateway delivery report: attempts, acceptance, delivery, failures and latency.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// One gateway's attempts started in [from, to). An attempt is accepted when the gateway took
// the message (outcome "sent"); its first final receipt (delivered, undelivered or failed) for
// the provider id it was given says what became of it.
struct GatewayReportRow {
  std::string gateway;
  std::int64_t attempts = 0;
  std::int64_t accepted = 0;     // outcome sent
  std::int64_t rejected = 0;     // outcome retry, failover or failed: the gateway did not take it
  std::int64_t delivered = 0;    // accepted, then a delivered receipt
  std::int64_t undelivered = 0;  // accepted, then an undelivered or failed receipt
  std::int64_t failed = 0;       // rejected + undelivered
  // How long the gateway took to answer an attempt (its duration_ms), over every attempt.
  std::optional<double> median_latency_ms, p95_latency_ms;
  // From the start of an accepted attempt to its delivered receipt.
  std::optional<double> median_delivery_ms, p95_delivery_ms;
};

// Ordered by gateway name; gateways without attempts in the range are absent.
std::vector<GatewayReportRow> gateway_report(Database& db, TimePoint from, TimePoint to);

}  // namespace herald::store
