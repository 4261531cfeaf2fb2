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

TransferGateway::TransferGateway(const GatewayConfig& config, CurlMulti::Options transport)
    : name_(config.name),
      channel_(config.channel),
      max_concurrent_(static_cast<std::size_t>(std::max(1, transport.max_concurrent))),
      transport_(std::move(transport)),
      metrics_(config.name) {}

std::vector<SendResult> TransferGateway::send_batch(const std::vector<OutboundMessage>& batch) {
  const TimePoint now = system_now();
  std::vector<TransferRequest> requests;
  requests.reserve(batch.size());
  for (const auto& m : batch) requests.push_back(build_request(m, now));
  const std::vector<TransferResponse> responses = transport_.perform(requests);
  std::vector<SendResult> results;
  results.reserve(batch.size());
  for (std::size_t i = 0; i < responses.size() && i < batch.size(); ++i) {
    SendResult r = classify(responses[i], batch[i], now);
    r.duration_ms = responses[i].duration_ms;
    metrics_.record(r);
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace herald::gateways
