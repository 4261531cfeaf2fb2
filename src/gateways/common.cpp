// Gateway result metrics, transfer failures, and the interface's out-of-line pieces.
#include "common.hpp"

namespace herald::gateways {

Gateway::~Gateway() = default;

std::string_view to_string(SendOutcome o) {
  switch (o) {
    case SendOutcome::sent: return "sent";
    case SendOutcome::retry: return "retry";
    case SendOutcome::failed: return "failed";
    case SendOutcome::opted_out: return "opted_out";
  }
  return "retry";
}

GatewayMetrics::GatewayMetrics(const std::string& gateway)
    : request_seconds_(metrics::Registry::global().histogram(
          "herald_gateway_request_seconds", "Time from request to provider reply, per message",
          {{"gateway", gateway}})) {
  for (auto outcome : {SendOutcome::sent, SendOutcome::retry, SendOutcome::failed,
                       SendOutcome::opted_out}) {
    results_[static_cast<std::size_t>(outcome)] = &metrics::Registry::global().counter(
        "herald_gateway_results_total", "Send results by gateway and outcome",
        {{"gateway", gateway}, {"outcome", std::string(to_string(outcome))}});
  }
}

void GatewayMetrics::record(const SendResult& result) {
  request_seconds_.observe(result.duration_ms / 1000.0);
  results_[static_cast<std::size_t>(result.outcome)]->inc();
}

SendResult transfer_failure(const TransferResponse& response) {
  SendResult result;
  result.outcome = SendOutcome::retry;
  result.http_status = static_cast<int>(response.status);
  result.error_code = response.error_code.empty() ? "network" : response.error_code;
  result.detail = response.error;
  result.duration_ms = response.duration_ms;
  return result;
}

TimePoint system_now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

}  // namespace herald::gateways
