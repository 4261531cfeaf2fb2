// The per-gateway report, computed in one statement over the attempts of a time range.
#include "herald/store/gateway_report.hpp"

#include "repo_util.hpp"

namespace herald::store {

namespace {

// Attempts are found by start time through their BRIN index (0010); each accepted attempt's
// first final receipt is one probe of delivery_receipts_message.
const char* const kGatewayReport = R"SQL(
SELECT a.gateway,
       count(*),
       count(*) FILTER (WHERE a.outcome = 'sent'),
       count(*) FILTER (WHERE a.outcome <> 'sent'),
       count(*) FILTER (WHERE r.status = 'delivered'),
       count(*) FILTER (WHERE r.status IN ('undelivered', 'failed')),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY a.duration_ms),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.delivery_ms) FILTER (WHERE r.status = 'delivered'),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY r.delivery_ms) FILTER (WHERE r.status = 'delivered')
FROM herald.message_attempts a
LEFT JOIN LATERAL (
  SELECT d.status, extract(epoch FROM d.received_at - a.started_at) * 1000 AS delivery_ms
  FROM herald.delivery_receipts d
  WHERE a.outcome = 'sent' AND d.message_id = a.message_id AND d.provider_id = a.provider_id
    AND d.status IN ('delivered', 'undelivered', 'failed')
  ORDER BY d.id
  LIMIT 1
) r ON true
WHERE a.started_at >= $1::timestamptz AND a.started_at < $2::timestamptz
GROUP BY a.gateway
ORDER BY a.gateway)SQL";

std::optional<double> optional_number(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<double>();
}

}  // namespace

std::vector<GatewayReportRow> gateway_report(Database& db, TimePoint from, TimePoint to) {
  std::vector<GatewayReportRow> out;
  with_connection(db, [&](pqxx::connection& c) {
    out.clear();
    pqxx::nontransaction n(c);
    for (const auto& row : n.exec_params(kGatewayReport, format_time(from), format_time(to))) {
      GatewayReportRow g;
      g.gateway = row[0].c_str();
      g.attempts = row[1].as<std::int64_t>();
      g.accepted = row[2].as<std::int64_t>();
      g.rejected = row[3].as<std::int64_t>();
      g.delivered = row[4].as<std::int64_t>();
      g.undelivered = row[5].as<std::int64_t>();
      g.failed = g.rejected + g.undelivered;
      g.median_latency_ms = optional_number(row[6]);
      g.p95_latency_ms = optional_number(row[7]);
      g.median_delivery_ms = optional_number(row[8]);
      g.p95_delivery_ms = optional_number(row[9]);
      out.push_back(std::move(g));
    }
  });
  return out;
}

}  // namespace herald::store
