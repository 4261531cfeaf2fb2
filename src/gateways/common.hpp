// Pieces every adapter shares: result metrics and the result of a transfer that failed.
#pragma once

#include <array>
#include <string>

#include "herald/domain/metrics.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/gateways/transfer.hpp"

namespace herald::gateways {

// herald_gateway_request_seconds{gateway} and herald_gateway_results_total{gateway,outcome},
// looked up once so that recording a result takes no registry lock.
class GatewayMetrics {
 public:
  explicit GatewayMetrics(const std::string& gateway);
  void record(const SendResult& result);

 private:
  metrics::Histogram& request_seconds_;
  std::array<metrics::Counter*, 4> results_{};  // indexed by SendOutcome
};

// A transfer that got no usable reply (refused, timed out, TLS): retry later.
SendResult transfer_failure(const TransferResponse& response);

TimePoint system_now();

}  // namespace herald::gateways
