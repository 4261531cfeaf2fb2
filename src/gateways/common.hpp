// Pieces every adapter shares: result metrics and the result of a transfer that failed.
#pragma once

#include <array>
#include <string>

#include "herald/domain/metrics.hpp"
#include "herald/gateways/curl_multi.hpp"
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

// A gateway whose messages each become one libcurl transfer: it builds the requests, performs
// them concurrently on its CurlMulti and turns each response into a result, with metrics.
class TransferGateway : public Gateway {
 public:
  TransferGateway(const GatewayConfig& config, CurlMulti::Options transport);
  const std::string& name() const override { return name_; }
  Channel channel() const override { return channel_; }
  std::vector<SendResult> send_batch(const std::vector<OutboundMessage>& batch) final;
  std::size_t max_concurrent() const override { return max_concurrent_; }

 protected:
  virtual TransferRequest build_request(const OutboundMessage& message, TimePoint now) const = 0;
  virtual SendResult classify(const TransferResponse& response, const OutboundMessage& message,
                              TimePoint now) const = 0;

 private:
  std::string name_;
  Channel channel_;
  std::size_t max_concurrent_;
  CurlMulti transport_;
  GatewayMetrics metrics_;
};

}  // namespace herald::gateways
